//! Chunking and per-chunk gzip (spec/mesh.md §7): the payload is split *before* compression and
//! every piece is compressed on its own, so each request body is independently decodable.

use std::io::Write;

use bytes::buf::Writer;
use bytes::{BufMut, Bytes, BytesMut};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::MeshError;

/// Splits `body` into pieces of at most `chunk_size` bytes (zero-copy). An empty body gives one
/// empty piece, so that MESH itself answers "data file is missing" (code 02).
pub(crate) fn split(body: &Bytes, chunk_size: usize) -> Vec<Bytes> {
    if body.is_empty() || chunk_size == 0 {
        return vec![body.clone()];
    }
    (0..body.len())
        .step_by(chunk_size)
        .map(|start| body.slice(start..(start + chunk_size).min(body.len())))
        .collect()
}

/// A gzip encoder writing into `out` (cleared first, its allocation reused) for a piece of
/// `len` bytes.
pub(crate) fn gzip_writer(mut out: BytesMut, len: u64) -> GzEncoder<Writer<BytesMut>> {
    // Room for the worst case (stored blocks: 5 bytes per 16 KiB, plus header and trailer), so
    // the output never reallocates: a regrown multi-megabyte buffer would briefly exist twice.
    // Untouched capacity costs address space, not memory.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    out.clear();
    out.reserve(len.saturating_add(len / 1000).saturating_add(64));
    GzEncoder::new(out.writer(), Compression::default())
}

/// gzip-compresses one piece into `out` (see [`gzip_writer`]).
pub(crate) fn gzip_into(piece: &[u8], out: BytesMut) -> Result<BytesMut, MeshError> {
    let mut encoder = gzip_writer(out, piece.len() as u64);
    encoder.write_all(piece).map_err(MeshError::Compression)?;
    let writer = encoder.finish().map_err(MeshError::Compression)?;
    Ok(writer.into_inner())
}

/// gzip-compresses one piece into a new buffer.
#[cfg(test)]
pub(crate) fn gzip(piece: &[u8]) -> Result<Vec<u8>, MeshError> {
    gzip_into(piece, BytesMut::new()).map(Vec::from)
}

/// Decompresses one gzip piece (multi-member tolerant, as some encoders emit several members).
/// Downloads stream through `flate2::write::MultiGzDecoder` instead.
#[cfg(test)]
pub(crate) fn gunzip(data: &[u8]) -> Result<Vec<u8>, MeshError> {
    use std::io::Read;
    let mut out = Vec::with_capacity(data.len().saturating_mul(3));
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .map_err(MeshError::Compression)?;
    Ok(out)
}

/// Parses `Mex-Chunk-Range` (`k:n`) into `(k, n)`.
pub(crate) fn parse_range(value: &str) -> Option<(usize, usize)> {
    let (k, n) = value.trim().split_once(':')?;
    Some((k.trim().parse().ok()?, n.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_in_order_without_loss() {
        let body = Bytes::from((0..=255u8).cycle().take(1000).collect::<Vec<_>>());
        let pieces = split(&body, 300);
        assert_eq!(
            pieces.iter().map(Bytes::len).collect::<Vec<_>>(),
            [300, 300, 300, 100]
        );
        assert_eq!(pieces.concat(), body.to_vec());
        assert_eq!(split(&body, 1000).len(), 1);
        assert_eq!(split(&body, 999).len(), 2);
        assert_eq!(split(&Bytes::new(), 10), vec![Bytes::new()]);
    }

    #[test]
    fn gzip_round_trip() {
        let data = b"hello mesh ".repeat(1000);
        let packed = gzip(&data).unwrap();
        assert!(packed.len() < data.len());
        assert_eq!(&packed[..2], &[0x1f, 0x8b]);
        assert_eq!(gunzip(&packed).unwrap(), data);
        assert!(matches!(
            gunzip(b"not gzip"),
            Err(MeshError::Compression(_))
        ));
    }

    #[test]
    fn chunk_ranges() {
        assert_eq!(parse_range("1:3"), Some((1, 3)));
        assert_eq!(parse_range(" 2 : 3 "), Some((2, 3)));
        assert_eq!(parse_range("1:0"), Some((1, 0)));
        assert_eq!(parse_range("3"), None);
        assert_eq!(parse_range("a:b"), None);
    }
}
