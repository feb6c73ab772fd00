//! Where the chunks of an outbound message come from: slices of an in-memory body, or pieces
//! read from a file one at a time. Either way at most one piece and its gzip copy are alive,
//! the buffers are reused from chunk to chunk (see [`Chunks::recycle`]), and reading and
//! compressing large pieces run on the blocking pool, not on the async workers.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};

use crate::{MeshError, chunk};

/// Pieces smaller than this are gzipped inline: a blocking-pool hop costs more than it saves.
const INLINE_GZIP_MAX: usize = 64 * 1024;

/// The chunks of one outbound message, produced in order by [`Chunks::next`].
pub(crate) struct Chunks {
    source: Source,
    compress: bool,
    /// gzip output buffer handed back by [`Chunks::recycle`].
    spare_gzip: BytesMut,
}

enum Source {
    /// Zero-copy slices of an in-memory body.
    Memory(std::vec::IntoIter<Bytes>),
    /// Pieces read from a file.
    File(FileChunks),
}

impl Chunks {
    /// Slices `body` into pieces of at most `chunk_size` bytes (no copy); returns the count.
    pub(crate) fn memory(body: &Bytes, chunk_size: usize, compress: bool) -> (Self, usize) {
        let pieces = chunk::split(body, chunk_size);
        let total = pieces.len();
        (
            Self::new(Source::Memory(pieces.into_iter()), compress),
            total,
        )
    }

    /// Opens `path` for reading in pieces of `chunk_size`; returns the chunk count (an empty
    /// file is one empty chunk, so that MESH itself answers "data file is missing") and the
    /// file size.
    pub(crate) async fn file(
        path: &Path,
        chunk_size: usize,
        compress: bool,
    ) -> Result<(Self, usize, u64), MeshError> {
        let owned = path.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || {
            let file = File::open(&owned)?;
            let len = file.metadata()?.len();
            Ok::<_, std::io::Error>((file, len))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        let (file, len) = opened.map_err(|source| read_error(path, source))?;
        let size = u64::try_from(chunk_size.max(1)).unwrap_or(u64::MAX);
        let total = usize::try_from(len.div_ceil(size).max(1)).unwrap_or(usize::MAX);
        let file = FileChunks {
            file: Some(file),
            path: path.to_path_buf(),
            chunk_size: size,
            remaining: len,
            left: total,
            spare_read: BytesMut::new(),
        };
        Ok((Self::new(Source::File(file), compress), total, len))
    }

    fn new(source: Source, compress: bool) -> Self {
        Self {
            source,
            compress,
            spare_gzip: BytesMut::new(),
        }
    }

    /// The next piece, gzipped on its own when compressing; `None` after the last.
    pub(crate) async fn next(&mut self) -> Option<Result<Bytes, MeshError>> {
        let out = std::mem::take(&mut self.spare_gzip);
        let compress = self.compress.then_some(out);
        match &mut self.source {
            Source::Memory(pieces) => {
                let piece = pieces.next()?;
                Some(match compress {
                    None => Ok(piece),
                    Some(out) => gzip(piece, out).await,
                })
            }
            Source::File(file) => file.next(compress).await,
        }
    }

    /// Takes back a piece that has been sent, so that the next piece reuses its memory instead
    /// of allocating again (large allocations freed on one thread and made on another make
    /// the allocator hold on to several chunks' worth). Shared pieces are simply dropped.
    pub(crate) fn recycle(&mut self, sent: Bytes) {
        let Ok(buffer) = sent.try_into_mut() else {
            return;
        };
        match &mut self.source {
            _ if self.compress => self.spare_gzip = buffer,
            Source::File(file) => file.spare_read = buffer,
            Source::Memory(_) => {}
        }
    }
}

/// gzips `piece` into `out`, off the async workers when it is large.
async fn gzip(piece: Bytes, out: BytesMut) -> Result<Bytes, MeshError> {
    if piece.len() <= INLINE_GZIP_MAX {
        return chunk::gzip_into(&piece, out).map(BytesMut::freeze);
    }
    tokio::task::spawn_blocking(move || chunk::gzip_into(&piece, out).map(BytesMut::freeze))
        .await
        .map_err(|e| MeshError::Compression(std::io::Error::other(e)))?
}

/// A payload file read one chunk at a time.
struct FileChunks {
    /// `None` only while a blocking read has it.
    file: Option<File>,
    path: PathBuf,
    chunk_size: u64,
    /// Bytes not yet read; the file must not change while it is sent.
    remaining: u64,
    /// Chunks still to produce.
    left: usize,
    /// Read buffer for uncompressed pieces, handed back by [`Chunks::recycle`].
    spare_read: BytesMut,
}

impl FileChunks {
    async fn next(&mut self, gzip_out: Option<BytesMut>) -> Option<Result<Bytes, MeshError>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let last = self.left == 0;
        let take = self.remaining.min(self.chunk_size);
        self.remaining -= take;
        let Some(mut file) = self.file.take() else {
            let gone = std::io::Error::other("payload file already failed");
            return Some(Err(read_error(&self.path, gone)));
        };
        let buffer = std::mem::take(&mut self.spare_read);
        let joined = tokio::task::spawn_blocking(move || {
            let result = read_piece(&mut file, buffer, take, last, gzip_out);
            (file, result)
        })
        .await;
        let (file, result) = match joined {
            Ok(done) => done,
            Err(e) => return Some(Err(read_error(&self.path, std::io::Error::other(e)))),
        };
        self.file = Some(file);
        Some(match result {
            Ok((piece, kept)) => {
                self.spare_read = kept;
                Ok(piece)
            }
            Err(PieceError::Io(source)) => Err(read_error(&self.path, source)),
            Err(PieceError::Gzip(e)) => Err(e),
        })
    }
}

enum PieceError {
    Io(std::io::Error),
    Gzip(MeshError),
}

/// Reads the next `len` bytes: into `buffer` when sending them as they are, or straight through
/// gzip into `gzip_out` (no plain copy of the piece at all). Returns the piece and the read
/// buffer to keep. After the last piece the file must be at its end, so a file that grew while
/// being sent fails instead of losing its tail.
fn read_piece(
    file: &mut File,
    mut buffer: BytesMut,
    len: u64,
    last: bool,
    gzip_out: Option<BytesMut>,
) -> Result<(Bytes, BytesMut), PieceError> {
    let short = || PieceError::Io(std::io::ErrorKind::UnexpectedEof.into());
    let piece = match gzip_out {
        Some(out) => {
            let mut encoder = chunk::gzip_writer(out, len);
            let copied =
                std::io::copy(&mut file.take(len), &mut encoder).map_err(PieceError::Io)?;
            if copied != len {
                return Err(short());
            }
            let packed = encoder
                .finish()
                .map_err(|e| PieceError::Gzip(MeshError::Compression(e)))?;
            packed.into_inner().freeze()
        }
        None => {
            let len = usize::try_from(len).map_err(|e| PieceError::Io(std::io::Error::other(e)))?;
            buffer.clear();
            buffer.resize(len, 0);
            file.read_exact(&mut buffer).map_err(PieceError::Io)?;
            std::mem::take(&mut buffer).freeze()
        }
    };
    if last && file.read(&mut [0u8; 1]).map_err(PieceError::Io)? != 0 {
        let changed = std::io::Error::other("the file grew while it was being sent");
        return Err(PieceError::Io(changed));
    }
    Ok((piece, buffer))
}

fn read_error(path: &Path, source: std::io::Error) -> MeshError {
    MeshError::File {
        action: "reading mesh payload file",
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn temp_file(data: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(data).unwrap();
        file
    }

    /// Every piece, decompressed, recycling each one as `send` does.
    async fn collect(mut chunks: Chunks) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(piece) = chunks.next().await {
            let piece = piece.unwrap();
            out.push(if chunks.compress {
                chunk::gunzip(&piece).unwrap()
            } else {
                piece.to_vec()
            });
            chunks.recycle(piece);
        }
        out
    }

    #[tokio::test]
    async fn file_pieces_match_memory_pieces() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let file = temp_file(&data);
        for (size, compress) in [(65_536, false), (65_536, true), (200_000, true), (7, false)] {
            let (from_file, total, len) = Chunks::file(file.path(), size, compress).await.unwrap();
            let body = Bytes::from(data.clone());
            let (from_memory, mem_total) = Chunks::memory(&body, size, compress);
            assert_eq!((total, len), (mem_total, data.len() as u64), "{size}");
            let a = collect(from_file).await;
            let b = collect(from_memory).await;
            assert_eq!(a.len(), total);
            assert_eq!(a, b, "{size} {compress}");
            assert_eq!(a.concat(), data);
        }
    }

    #[tokio::test]
    async fn empty_file_is_one_empty_chunk() {
        let file = temp_file(b"");
        let (chunks, total, _) = Chunks::file(file.path(), 10, false).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!(collect(chunks).await, vec![Vec::<u8>::new()]);
    }

    #[tokio::test]
    async fn missing_and_changing_files_fail_naming_the_file() {
        let err = Chunks::file(Path::new("/nonexistent/payload.bin"), 10, false)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, MeshError::File { .. }), "{err}");
        assert!(
            err.to_string().contains("/nonexistent/payload.bin"),
            "{err}"
        );

        let mut file = temp_file(b"0123456789");
        let (mut chunks, total, _) = Chunks::file(file.path(), 6, false).await.unwrap();
        assert_eq!(total, 2);
        assert!(chunks.next().await.unwrap().is_ok());
        file.write_all(b"more").unwrap();
        let err = chunks.next().await.unwrap().unwrap_err();
        assert!(matches!(err, MeshError::File { .. }), "{err}");

        let file = temp_file(b"0123456789");
        let (mut chunks, _, _) = Chunks::file(file.path(), 6, true).await.unwrap();
        file.as_file().set_len(3).unwrap();
        assert!(matches!(
            chunks.next().await.unwrap(),
            Err(MeshError::File { .. })
        ));
    }

    #[tokio::test]
    async fn sent_pieces_are_recycled_into_the_next() {
        let data = vec![7u8; 30_000];
        let file = temp_file(&data);
        for compress in [false, true] {
            let (mut chunks, total, _) = Chunks::file(file.path(), 10_000, compress).await.unwrap();
            assert_eq!(total, 3);
            let mut addresses = Vec::new();
            while let Some(piece) = chunks.next().await {
                let piece = piece.unwrap();
                addresses.push(piece.as_ptr() as usize);
                chunks.recycle(piece);
            }
            assert!(addresses.windows(2).all(|w| w[0] == w[1]), "{addresses:?}");
        }
        // A piece still shared elsewhere is not taken back.
        let (mut chunks, _, _) = Chunks::file(file.path(), 10_000, false).await.unwrap();
        let first = chunks.next().await.unwrap().unwrap();
        let held = first.clone();
        chunks.recycle(first);
        let second = chunks.next().await.unwrap().unwrap();
        assert_ne!(held.as_ptr(), second.as_ptr());
        assert_eq!(held, vec![7u8; 10_000]);
    }
}
