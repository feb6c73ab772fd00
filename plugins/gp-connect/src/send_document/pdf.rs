//! The PDF of a Send Document event: from `data.pdfBase64`, or read from `data.pdfPath` inside
//! the route's document root (never outside it: absolute paths, `..` and links that leave the
//! root are refused). Either way it must really be a PDF (`%PDF-` magic) and stay under the
//! route's hard size limit. Problems name the field, never the path or content.

use std::io::Read;
use std::path::{Component, Path};

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Accepts padded and unpadded standard base64.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where the PDF comes from.
pub(super) enum Source<'a> {
    /// `data.pdfBase64`.
    Base64(&'a str),
    /// `data.pdfPath`, relative to `root`.
    Path { path: &'a str, root: &'a Path },
}

/// Loads and checks the PDF.
///
/// # Errors
/// One problem naming the field.
pub(super) fn load(source: Source<'_>, max_bytes: u64) -> Result<Vec<u8>, String> {
    let (field, bytes) = match source {
        Source::Base64(b64) => ("data.pdfBase64", decode(b64, max_bytes)?),
        Source::Path { path, root } => ("data.pdfPath", read(path, root, max_bytes)?),
    };
    if !bytes.starts_with(b"%PDF-") {
        return Err(format!(
            "{field} is not a PDF (the content does not start with %PDF-)"
        ));
    }
    Ok(bytes)
}

fn too_large(field: &str, max_bytes: u64) -> String {
    format!(
        "{field}: the PDF is larger than this route's limit of {} MiB",
        max_bytes / (1024 * 1024)
    )
}

fn decode(b64: &str, max_bytes: u64) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = b64.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    // Checked before decoding so that an oversized input costs no second copy.
    if (compact.len() as u64 / 4) * 3 > max_bytes + 3 {
        return Err(too_large("data.pdfBase64", max_bytes));
    }
    let bytes = LENIENT
        .decode(&compact)
        .map_err(|_| "data.pdfBase64 is not valid base64".to_owned())?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large("data.pdfBase64", max_bytes));
    }
    Ok(bytes)
}

fn read(path: &str, root: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let rel = Path::new(path.trim());
    let plain = rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !plain || rel.as_os_str().is_empty() {
        return Err(
            "data.pdfPath must be a relative path inside the document root (no absolute path, \
             no '..')"
                .into(),
        );
    }
    let root = root.canonicalize().map_err(|_| {
        "data.pdfPath cannot be read: the route's document root is missing".to_owned()
    })?;
    let unreadable =
        || "data.pdfPath does not name a readable file in the document root".to_owned();
    let full = root.join(rel).canonicalize().map_err(|_| unreadable())?;
    // A symbolic link inside the root may still point outside it.
    if !full.starts_with(&root) {
        return Err("data.pdfPath leaves the document root (through a link)".into());
    }
    let file = std::fs::File::open(&full).map_err(|_| unreadable())?;
    let meta = file.metadata().map_err(|_| unreadable())?;
    if !meta.is_file() {
        return Err(unreadable());
    }
    if meta.len() > max_bytes {
        return Err(too_large("data.pdfPath", max_bytes));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default());
    // `take` guards against a file that grows while it is read.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| unreadable())?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large("data.pdfPath", max_bytes));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

    #[test]
    fn base64_rules() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
        assert_eq!(load(Source::Base64(&b64), 1024).unwrap(), PDF);
        let unpadded = b64.trim_end_matches('=');
        assert_eq!(load(Source::Base64(unpadded), 1024).unwrap(), PDF);
        let wrapped = format!("{}\n{}", &b64[..8], &b64[8..]);
        assert!(load(Source::Base64(&wrapped), 1024).is_ok());
        let not_pdf = base64::engine::general_purpose::STANDARD.encode(b"GIF89a");
        assert!(
            load(Source::Base64(&not_pdf), 1024)
                .unwrap_err()
                .contains("not a PDF")
        );
        assert!(
            load(Source::Base64("!!!"), 1024)
                .unwrap_err()
                .contains("not valid base64")
        );
        assert!(
            load(Source::Base64(&b64), 4)
                .unwrap_err()
                .contains("larger")
        );
    }

    #[test]
    fn path_rules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("docs");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("a.pdf"), PDF).unwrap();
        std::fs::write(dir.path().join("outside.pdf"), PDF).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/b.pdf"), PDF).unwrap();
        std::fs::write(root.join("c.txt"), b"hello").unwrap();
        let path = |p| {
            load(
                Source::Path {
                    path: p,
                    root: &root,
                },
                1024,
            )
        };
        assert_eq!(path("a.pdf").unwrap(), PDF);
        assert_eq!(path("./sub/b.pdf").unwrap(), PDF);
        for escaping in ["../outside.pdf", "sub/../../outside.pdf", "/etc/passwd", ""] {
            assert!(
                path(escaping).unwrap_err().contains("relative path"),
                "{escaping}"
            );
        }
        assert!(path("missing.pdf").unwrap_err().contains("readable"));
        assert!(path("sub").unwrap_err().contains("readable"));
        assert!(path("c.txt").unwrap_err().contains("not a PDF"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("outside.pdf"), root.join("link.pdf"))
                .unwrap();
            assert!(
                path("link.pdf")
                    .unwrap_err()
                    .contains("leaves the document root")
            );
        }
        let big = load(
            Source::Path {
                path: "a.pdf",
                root: &root,
            },
            4,
        );
        assert!(big.unwrap_err().contains("larger"));
        let gone = load(
            Source::Path {
                path: "a.pdf",
                root: &dir.path().join("nope"),
            },
            1024,
        );
        assert!(gone.unwrap_err().contains("document root is missing"));
    }
}
