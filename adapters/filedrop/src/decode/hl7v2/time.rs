//! HL7v2 timestamps (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`) to RFC 3339 UTC.
//!
//! A timestamp without an offset takes the offset of MSH-7 when that has one (HL7's default for a
//! message), else the drop folder's local time zone. `Europe/London` follows the UK rule (BST from
//! 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October): a local
//! time in the repeated autumn hour is read as BST (the first occurrence), and one in the
//! skipped spring hour as GMT.

use chrono::{
    Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
    Weekday,
};
use serde::{Deserialize, Serialize};

/// Time zone of HL7v2 timestamps that carry no offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalTimeZone {
    /// UK civil time (GMT in winter, BST in summer).
    #[default]
    #[serde(rename = "Europe/London")]
    EuropeLondon,
    /// UTC.
    #[serde(rename = "UTC")]
    Utc,
}

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ts {
    /// The date.
    pub(crate) date: NaiveDate,
    /// The time of day, when given to at least the hour.
    pub(crate) time: Option<NaiveTime>,
    /// The offset, when given.
    pub(crate) offset: Option<FixedOffset>,
}

/// Parses an HL7v2 DTM/TS value. `None` when it is not one or gives less than a day.
pub(crate) fn parse(raw: &str) -> Option<Ts> {
    let raw = raw.trim();
    let (main, offset) = match raw
        .char_indices()
        .find(|&(i, c)| i >= 4 && (c == '+' || c == '-'))
    {
        Some((i, _)) => (&raw[..i], Some(parse_offset(&raw[i..])?)),
        None => (raw, None),
    };
    let (digits, fraction) = main.split_once('.').unwrap_or((main, ""));
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let num = |from: usize, to: usize| digits.get(from..to).and_then(|s| s.parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(4, 6)?, num(6, 8)?)?;
    let time = match digits.len() {
        8 => None,
        10 | 12 | 14 => Some(NaiveTime::from_hms_opt(
            num(8, 10)?,
            num(10, 12).unwrap_or(0),
            num(12, 14).unwrap_or(0),
        )?),
        _ => return None,
    };
    Some(Ts { date, time, offset })
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, hhmm) = s.split_at(1);
    if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = hhmm.get(..2)?.parse().ok()?;
    let m: i32 = hhmm.get(2..)?.parse().ok()?;
    let secs = (h * 60 + m) * 60;
    FixedOffset::east_opt(if sign == "-" { -secs } else { secs })
}

/// `ts` as RFC 3339 in UTC (`2026-11-20T09:40:00Z`), or as `YYYY-MM-DD` when it has no time.
pub(crate) fn to_rfc3339(ts: &Ts, default: Option<FixedOffset>, zone: LocalTimeZone) -> String {
    let Some(time) = ts.time else {
        return ts.date.format("%Y-%m-%d").to_string();
    };
    let local = NaiveDateTime::new(ts.date, time);
    let offset = ts
        .offset
        .or(default)
        .unwrap_or_else(|| zone_offset(local, zone));
    let utc = local - Duration::seconds(i64::from(offset.local_minus_utc()));
    Utc.from_utc_datetime(&utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The offset of local time `local` in `zone`.
fn zone_offset(local: NaiveDateTime, zone: LocalTimeZone) -> FixedOffset {
    let gmt = Utc.fix();
    match zone {
        LocalTimeZone::Utc => gmt,
        LocalTimeZone::EuropeLondon => {
            let bst = FixedOffset::east_opt(3600).unwrap_or(gmt);
            let as_bst = local - Duration::hours(1);
            match in_bst(as_bst) {
                true => bst,
                false => gmt,
            }
        }
    }
}

/// Whether the UTC time `utc` falls in British Summer Time.
fn in_bst(utc: NaiveDateTime) -> bool {
    let year = utc.year();
    let change = |month| {
        last_sunday(year, month)
            .and_then(|d| d.and_hms_opt(1, 0, 0))
            .unwrap_or(utc)
    };
    let (start, end) = (change(3), change(10));
    start <= utc && utc < end
}

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
    let back = last.weekday().days_since(Weekday::Sun);
    last.checked_sub_days(chrono::Days::new(u64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(raw: &str) -> String {
        to_rfc3339(&parse(raw).unwrap(), None, LocalTimeZone::EuropeLondon)
    }

    #[test]
    fn precisions_and_offsets() {
        assert_eq!(conv("20261120"), "2026-11-20");
        assert_eq!(conv("202611200940"), "2026-11-20T09:40:00Z");
        assert_eq!(conv("2026112009"), "2026-11-20T09:00:00Z");
        assert_eq!(conv("20261120094015.1234"), "2026-11-20T09:40:15Z");
        assert_eq!(conv("202611200940+0100"), "2026-11-20T08:40:00Z");
        assert_eq!(conv("202611200940-0500"), "2026-11-20T14:40:00Z");
        for bad in [
            "2026",
            "202611",
            "20261340",
            "2026112",
            "20261120094",
            "x",
            "2026-11-20",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn london_summer_time() {
        // BST in June: local 10:00 is 09:00 UTC.
        assert_eq!(conv("202606151000"), "2026-06-15T09:00:00Z");
        // 2026: BST starts 29 March 01:00 UTC, ends 25 October 01:00 UTC.
        assert_eq!(conv("202603290030"), "2026-03-29T00:30:00Z");
        assert_eq!(conv("202603290230"), "2026-03-29T01:30:00Z");
        assert_eq!(conv("202610250130"), "2026-10-25T00:30:00Z");
        assert_eq!(conv("202610250230"), "2026-10-25T02:30:00Z");
        let utc = to_rfc3339(&parse("202606151000").unwrap(), None, LocalTimeZone::Utc);
        assert_eq!(utc, "2026-06-15T10:00:00Z");
        let msh7 = FixedOffset::east_opt(-3600);
        assert_eq!(
            to_rfc3339(
                &parse("202606151000").unwrap(),
                msh7,
                LocalTimeZone::EuropeLondon
            ),
            "2026-06-15T11:00:00Z"
        );
    }
}
