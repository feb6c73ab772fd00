//! Check-digit rules for the identifiers the messages carry: NHS numbers (modulus 11) and
//! SNOMED CT / dm+d concept ids (format, partition, Verhoeff).

/// Verhoeff multiplication table (dihedral group D5).
const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
/// Verhoeff permutation table, row i = the base permutation applied i times.
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// True when the digit string (check digit last) passes the Verhoeff check.
pub(crate) fn verhoeff_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let c = digits.bytes().rev().enumerate().fold(0u8, |c, (i, b)| {
        D[usize::from(c)][usize::from(P[i % 8][usize::from(b - b'0')])]
    });
    c == 0
}

/// SNOMED CT identifier (also dm+d ids): 6–18 digits, no leading zero, partition 00/01/02/10/11/12
/// (concept, description, relationship; short and extension forms), Verhoeff check digit.
pub fn sctid_valid(code: &str) -> bool {
    let len = code.len();
    if !(6..=18).contains(&len)
        || code.starts_with('0')
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let partition = &code[len - 3..len - 1];
    matches!(partition, "00" | "01" | "02" | "10" | "11" | "12") && verhoeff_valid(code)
}

/// SNOMED CT *concept* id: valid [`sctid_valid`] with a concept partition (00 or 10).
pub fn concept_id_valid(code: &str) -> bool {
    sctid_valid(code) && matches!(&code[code.len() - 3..code.len() - 1], "00" | "10")
}

/// A UUID in its canonical 8-4-4-4-12 hex form.
pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// NHS number: 10 digits whose last is the modulus-11 check digit of the first nine (a
/// remainder giving check 10 means the number is invalid).
pub fn nhs_number_valid(n: &str) -> bool {
    if n.len() != 10 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = n.bytes().map(|b| u32::from(b - b'0')).collect();
    let total: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - total % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == digits[9]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers() {
        for good in ["9000000009", "9000000017", "9434765919", "9434765870"] {
            assert!(nhs_number_valid(good), "{good}");
        }
        for bad in [
            "4857773456",
            "9000000008",
            "900000000",
            "90000000090",
            "90000000a9",
            "",
        ] {
            assert!(!nhs_number_valid(bad), "{bad}");
        }
    }

    #[test]
    fn verhoeff_and_sctids() {
        assert!(verhoeff_valid("2363"));
        assert!(!verhoeff_valid("2364"));
        for good in [
            "1577041000000109",
            "1659111000000107",
            "1659121000000101",
            "1577321000000100",
            "307778003",
            "1091811000000102",
            "24549911000001107",
            "289411000001107",
            "17346711000001106",
            "428641000",
            "125176019",
        ] {
            assert!(sctid_valid(good), "{good}");
        }
        for bad in [
            "1091811000000100",
            "0123456",
            "12345",
            "12a456",
            "1577041000000139",
        ] {
            assert!(!sctid_valid(bad), "{bad}");
        }
        assert!(concept_id_valid("307778003"));
        assert!(!concept_id_valid("125176019"));
    }
}
