//! [`Follower`]: one followed path, read in bounded batches of complete lines.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::fingerprint::{nlink, FileId, Fingerprint, FINGERPRINT_BYTES};
use crate::siblings::{siblings, Sibling};

/// How long a caller should wait after an idle [`Follower::poll`].
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Bounds on what a follower holds and hands out at once.
#[derive(Debug, Clone)]
pub struct Options {
    /// A batch holds at most this many lines…
    pub max_batch_lines: usize,
    /// …and at most this many bytes of line text (a single longer line still fits alone).
    pub max_batch_bytes: usize,
    /// A line longer than this is not buffered: it is skipped and yielded as
    /// [`Line::TooLong`] with its length.
    pub max_line: usize,
    /// Bytes asked of the file per read.
    pub read_chunk: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_batch_lines: 4096,
            max_batch_bytes: 1 << 20,
            max_line: 1 << 20,
            read_chunk: 128 << 10,
        }
    }
}

/// Where a follower begins.
#[derive(Debug, Clone)]
pub enum Start {
    /// The whole file (and a file that appears later, from its start).
    Beginning,
    /// After the last complete line of the file as it is now, like `tail -f`
    /// (a file that does not exist yet is read from its start once it appears).
    End,
    /// A checkpoint: the file it names is looked for at the path, then among the
    /// rotated siblings (gzip'd or not); its remainder is read, then any newer
    /// rotated files, then the current file.
    At(Position),
}

/// How far a file has been read: always just after a complete line (or the
/// final unterminated line of a rotated file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file's first `min(1 KiB, offset)` bytes.
    pub fingerprint: Fingerprint,
    /// Bytes consumed (of the decompressed text, for a gzip'd file).
    pub offset: u64,
    /// Lines consumed: the next line is number `line + 1`.
    pub line: u64,
    /// Device and inode when it was read; a hint only.
    pub file_id: Option<FileId>,
}

impl Position {
    /// Nothing read of any file.
    pub fn origin() -> Position {
        Position {
            fingerprint: Fingerprint::empty(),
            offset: 0,
            line: 0,
            file_id: None,
        }
    }
}

/// One line of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes without its `\n` (or `\r\n`). Not necessarily UTF-8.
    Text(&'a [u8]),
    /// A line longer than [`Options::max_line`], skipped unread: its length in bytes.
    TooLong { len: u64 },
}

/// Something the caller should know (and log); never fatal.
#[derive(Debug)]
pub enum Notice {
    /// Reading `path` from `offset` (line `line + 1` comes next).
    Opened {
        path: PathBuf,
        offset: u64,
        line: u64,
    },
    /// The checkpointed file was found at `path` (a rotated sibling of the
    /// followed path): its remainder is read first.
    Resumed { path: PathBuf, offset: u64 },
    /// The checkpointed file is nowhere to be found: the current file is read from its start.
    CheckpointNotFound,
    /// The path names a new file: the old one was read to its end first.
    Rotated,
    /// The file was truncated in place (copytruncate): read again from its start,
    /// after the rest of the old content if a rotated copy holds it.
    Truncated,
    /// The file was deleted (and no new one has appeared): it was read to its end and closed.
    Deleted,
    /// A rotated file was read to its end.
    Finished { path: PathBuf },
    /// The followed path does not exist (yet): waiting for it.
    Missing { path: PathBuf },
    /// A file could not be read; the follower retries (the followed file) or
    /// moves on (a rotated one, whose unread lines are then lost).
    Error(TailError),
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is shorter than the checkpoint ({offset} bytes): skipped", path.display())]
    Short { path: PathBuf, offset: u64 },
}

/// What a poll produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// The batch holds lines: process them, then poll again at once.
    Lines,
    /// Nothing new now (the batch may still carry notices): wait, then poll again.
    Idle,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    line: u64,
    start: usize,
    end: usize,
    /// Set for an over-long line (then `start == end`).
    too_long: Option<u64>,
}

/// A batch of complete lines from one file, with the position after them.
/// Reused from poll to poll (its buffers are kept).
#[derive(Debug, Default)]
pub struct Batch {
    buf: Vec<u8>,
    entries: Vec<Entry>,
    position: Option<Position>,
    source: Option<Arc<Path>>,
    notices: Vec<Notice>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
        self.notices.clear();
    }

    /// The lines with their 1-based numbers in their file, in order.
    pub fn lines(&self) -> impl Iterator<Item = (u64, Line<'_>)> + '_ {
        self.entries.iter().map(|e| {
            let line = match e.too_long {
                Some(len) => Line::TooLong { len },
                None => Line::Text(&self.buf[e.start..e.end]),
            };
            (e.line, line)
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position after the batch's last line (or where the follower rests);
    /// `None` before any file was opened.
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }

    /// The file the lines were read from (the followed path or a rotated sibling).
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    fn fits(&self, len: usize, opts: &Options) -> bool {
        self.entries.is_empty()
            || (self.entries.len() < opts.max_batch_lines
                && self.buf.len() + len <= opts.max_batch_bytes)
    }

    fn push_text(&mut self, line: u64, text: &[u8]) {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let start = self.buf.len();
        self.buf.extend_from_slice(text);
        self.entries.push(Entry {
            line,
            start,
            end: self.buf.len(),
            too_long: None,
        });
    }

    fn push_too_long(&mut self, line: u64, len: u64) {
        let at = self.buf.len();
        self.entries.push(Entry {
            line,
            start: at,
            end: at,
            too_long: Some(len),
        });
    }
}

enum Reader {
    Plain(File),
    Gz(Box<flate2::read::MultiGzDecoder<File>>),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Plain(f) => f.read(buf),
            Reader::Gz(g) => g.read(buf),
        }
    }
}

/// A file to read next.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    gz: bool,
    /// The followed path itself (may grow, rotate, be truncated), or a rotated file read to its end.
    live: bool,
    from: From,
}

#[derive(Debug, Clone)]
enum From {
    At { offset: u64, line: u64 },
    End,
}

const ORIGIN: From = From::At { offset: 0, line: 0 };

/// An open file and how far it has been read.
struct Open {
    path: Arc<Path>,
    reader: Reader,
    live: bool,
    id: Option<FileId>,
    /// The file's first `min(1 KiB, read_off)` bytes.
    prefix: Vec<u8>,
    /// Bytes read from the file.
    read_off: u64,
    /// Bytes consumed: the end of the last line handed out.
    consumed: u64,
    line: u64,
    /// Bytes read and not yet handed out; `carry[..cstart]` is already consumed,
    /// `carry[cstart..scanned]` holds no newline.
    carry: Vec<u8>,
    cstart: usize,
    scanned: usize,
    /// Inside an over-long line: its bytes so far (not kept).
    skipping: Option<u64>,
    /// The file's size when its prefix was last checked.
    checked_size: u64,
    /// The last read found the end: look at the file before reading on.
    at_eof: bool,
}

enum Fill {
    Full,
    Eof,
}

/// What a poll does after looking at the followed file.
enum Step {
    /// Read on.
    Read,
    /// Open the next file.
    Next,
    /// Hand out the batch.
    Done,
}

#[derive(Clone, Copy)]
enum Live {
    Grew,
    Unchanged,
    Truncated,
    /// The path names another file (or none); `ready`: the new one has its first line.
    Moved {
        ready: bool,
    },
    Deleted,
}

/// Up to `n` bytes from the start of `file`, leaving its offset at `resume`.
fn head_of_open(file: &mut File, n: usize, resume: u64) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(n);
    file.by_ref().take(n as u64).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(resume))?;
    Ok(head)
}

/// Up to `n` bytes from the start of the file at `path` (decompressed if `gz`).
fn head_of_path(path: &Path, gz: bool, n: usize) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut head = Vec::with_capacity(n);
    if gz {
        flate2::read::MultiGzDecoder::new(f)
            .take(n as u64)
            .read_to_end(&mut head)?;
    } else {
        f.take(n as u64).read_to_end(&mut head)?;
    }
    Ok(head)
}

fn id_of(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().and_then(|m| FileId::of(&m))
}

/// Whether the file at `path` is the one `pos` was read from, as far as its
/// content tells: the same first bytes and (uncompressed) at least as long.
fn content_matches(path: &Path, gz: bool, pos: &Position) -> bool {
    if !gz {
        match std::fs::metadata(path) {
            Ok(m) if m.len() >= pos.offset => {}
            _ => return false,
        }
    }
    head_of_path(path, gz, pos.fingerprint.len()).is_ok_and(|h| pos.fingerprint.matches(&h))
}

/// Whether a new file has its identity yet: a complete first line, or a full KiB.
fn has_identity(path: &Path) -> bool {
    head_of_path(path, false, FINGERPRINT_BYTES)
        .is_ok_and(|h| h.len() >= FINGERPRINT_BYTES || h.contains(&b'\n'))
}

impl Open {
    fn start(src: &Source) -> Result<Open, TailError> {
        let open_err = |source| TailError::Open {
            path: src.path.clone(),
            source,
        };
        let read_err = |source| TailError::Read {
            path: src.path.clone(),
            source,
        };
        let file = File::open(&src.path).map_err(open_err)?;
        let meta = file.metadata().map_err(read_err)?;
        let id = FileId::of(&meta);
        let (reader, offset, line, prefix) = if src.gz {
            let mut reader = Reader::Gz(Box::new(flate2::read::MultiGzDecoder::new(file)));
            let (offset, line) = match src.from {
                From::At { offset, line } => (offset, line),
                From::End => (0, 0),
            };
            // Decompress up to the offset, keeping the first KiB.
            let mut prefix = Vec::with_capacity(FINGERPRINT_BYTES);
            let mut left = offset;
            let mut buf = vec![0u8; 64 << 10];
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = reader.read(&mut buf[..want]).map_err(read_err)?;
                if n == 0 {
                    return Err(TailError::Short {
                        path: src.path.clone(),
                        offset,
                    });
                }
                let room = FINGERPRINT_BYTES - prefix.len();
                prefix.extend_from_slice(&buf[..n.min(room)]);
                left -= n as u64;
            }
            (reader, offset, line, prefix)
        } else {
            let mut file = file;
            let (offset, line) = match src.from {
                From::At { offset, line } => (offset, line),
                From::End => end_of(&mut file).map_err(read_err)?,
            };
            if meta.len() < offset && file.metadata().map_err(read_err)?.len() < offset {
                return Err(TailError::Short {
                    path: src.path.clone(),
                    offset,
                });
            }
            let n = usize::try_from(offset.min(FINGERPRINT_BYTES as u64)).unwrap_or(0);
            let prefix = head_of_open(&mut file, n, offset).map_err(read_err)?;
            (Reader::Plain(file), offset, line, prefix)
        };
        Ok(Open {
            path: Arc::from(src.path.as_path()),
            reader,
            live: src.live,
            id,
            prefix,
            read_off: offset,
            consumed: offset,
            line,
            carry: Vec::new(),
            cstart: 0,
            scanned: 0,
            skipping: None,
            checked_size: offset,
            at_eof: false,
        })
    }

    fn position(&self) -> Position {
        let n = usize::try_from(self.consumed.min(FINGERPRINT_BYTES as u64)).unwrap_or(0);
        Position {
            fingerprint: Fingerprint::of(&self.prefix[..n]),
            offset: self.consumed,
            line: self.line,
            file_id: self.id,
        }
    }

    /// Hands out complete lines until the batch is full or the file has no more.
    fn fill(&mut self, batch: &mut Batch, opts: &Options) -> io::Result<Fill> {
        loop {
            while let Some(i) = memchr::memchr(b'\n', &self.carry[self.scanned..]) {
                let nl = self.scanned + i;
                let len = nl - self.cstart;
                match self.skipping {
                    Some(skipped) => {
                        if !batch.fits(0, opts) {
                            return Ok(Fill::Full);
                        }
                        let total = skipped + len as u64;
                        self.line += 1;
                        batch.push_too_long(self.line, total);
                        self.consumed += total + 1;
                        self.skipping = None;
                    }
                    None => {
                        if !batch.fits(len, opts) {
                            return Ok(Fill::Full);
                        }
                        self.line += 1;
                        batch.push_text(self.line, &self.carry[self.cstart..nl]);
                        self.consumed += len as u64 + 1;
                    }
                }
                self.cstart = nl + 1;
                self.scanned = self.cstart;
            }
            self.scanned = self.carry.len();
            // What is left is a partial line: keep it, unless it is too long to keep.
            let partial = self.carry.len() - self.cstart;
            if let Some(skipped) = self.skipping.as_mut() {
                *skipped += partial as u64;
                self.carry.clear();
            } else if partial > opts.max_line {
                self.skipping = Some(partial as u64);
                self.carry.clear();
            } else if self.cstart > 0 {
                self.carry.drain(..self.cstart);
            }
            self.cstart = 0;
            self.scanned = self.carry.len();
            let have = self.carry.len();
            self.carry.resize(have + opts.read_chunk, 0);
            let n = loop {
                match self.reader.read(&mut self.carry[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.carry.truncate(have);
                        return Err(e);
                    }
                }
            };
            self.carry.truncate(have + n);
            if self.prefix.len() < FINGERPRINT_BYTES && self.read_off == self.prefix.len() as u64 {
                let room = FINGERPRINT_BYTES - self.prefix.len();
                self.prefix
                    .extend_from_slice(&self.carry[have..have + n.min(room)]);
            }
            self.read_off += n as u64;
            if n == 0 {
                return Ok(Fill::Eof);
            }
        }
    }

    /// Hands out the unterminated rest of a file that will not grow any more.
    /// False when the batch has no room for it.
    fn flush_partial(&mut self, batch: &mut Batch, opts: &Options) -> bool {
        let partial = self.carry.len() - self.cstart;
        if partial == 0 && self.skipping.is_none() {
            return true;
        }
        if !batch.fits(partial, opts) {
            return false;
        }
        self.line += 1;
        match self.skipping.take() {
            Some(skipped) => {
                let total = skipped + partial as u64;
                batch.push_too_long(self.line, total);
                self.consumed += total;
            }
            None => {
                batch.push_text(self.line, &self.carry[self.cstart..]);
                self.consumed += partial as u64;
            }
        }
        self.carry.clear();
        self.cstart = 0;
        self.scanned = 0;
        true
    }

    /// At the end of the followed file: has it grown, been truncated, moved or deleted?
    fn check(&mut self, path: &Path) -> io::Result<Live> {
        let Reader::Plain(file) = &mut self.reader else {
            return Ok(Live::Unchanged);
        };
        let meta = file.metadata()?;
        let size = meta.len();
        if size < self.read_off {
            return Ok(Live::Truncated);
        }
        if size != self.checked_size && self.read_off > 0 {
            // Truncated and rewritten past our offset between two looks: the
            // first bytes tell (they are not what they were).
            let head = head_of_open(file, self.prefix.len(), self.read_off)?;
            if head != self.prefix {
                return Ok(Live::Truncated);
            }
            self.checked_size = size;
        }
        if size > self.read_off {
            return Ok(Live::Grew);
        }
        match std::fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if nlink(&meta) == Some(0) {
                    Ok(Live::Deleted)
                } else {
                    Ok(Live::Moved { ready: false })
                }
            }
            Err(_) => Ok(Live::Unchanged),
            Ok(m) => match (FileId::of(&m), self.id) {
                (Some(now), Some(ours)) if now != ours => Ok(Live::Moved {
                    ready: has_identity(path),
                }),
                _ => Ok(Live::Unchanged),
            },
        }
    }
}

/// Offset after the last complete line of `file`, and the lines before it.
fn end_of(file: &mut File) -> io::Result<(u64, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut at, mut end, mut lines) = (0u64, 0u64, 0u64);
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            end = at + i as u64 + 1;
        }
        at += n as u64;
    }
    Ok((end, lines))
}

/// Follows one path: see the crate documentation.
pub struct Follower {
    path: PathBuf,
    opts: Options,
    /// How to begin, until the followed path has been opened once.
    start: Option<Start>,
    /// Files to read, in order (rotated remainders, then the followed path).
    queue: VecDeque<Source>,
    open: Option<Open>,
    /// The position while no file is open.
    resting: Option<Position>,
    /// The last trouble reported, so a missing file is not reported every poll.
    trouble: Option<String>,
}

impl Follower {
    /// Follows `path`. Nothing is opened until the first [`poll`](Self::poll).
    pub fn new(path: impl Into<PathBuf>, start: Start, opts: Options) -> Follower {
        let resting = match &start {
            Start::At(p) => Some(p.clone()),
            _ => None,
        };
        Follower {
            path: path.into(),
            opts,
            start: Some(start),
            queue: VecDeque::new(),
            open: None,
            resting,
            trouble: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the follower stands: after the last line handed out (`None`
    /// before any file was opened without a checkpoint).
    pub fn position(&self) -> Option<Position> {
        match &self.open {
            Some(o) => Some(o.position()),
            None => self.resting.clone(),
        }
    }

    /// Reads the next batch into `batch` (cleared first). Never blocks on the
    /// file growing and never reads ahead of the batch it fills: the caller
    /// pulls the next batch when it has dealt with this one.
    pub fn poll(&mut self, batch: &mut Batch) -> Poll {
        batch.clear();
        // A bounded number of steps (file switches) per poll.
        for _ in 0..32 {
            if self.open.is_none() && !self.open_next(batch) {
                break;
            }
            let Some(open) = self.open.as_mut() else {
                break;
            };
            batch.source = Some(open.path.clone());
            if open.live && open.at_eof {
                // Looked at before reading on: a file truncated and rewritten
                // past our offset must not be read from the middle.
                match self.check_live(batch) {
                    Step::Read => {}
                    Step::Next => continue,
                    Step::Done => return self.finish(batch),
                }
            }
            let Some(open) = self.open.as_mut() else {
                break;
            };
            let filled = open.fill(batch, &self.opts);
            if filled.is_ok() {
                self.trouble = None;
            }
            match filled {
                Ok(Fill::Full) => return self.finish(batch),
                Ok(Fill::Eof) => {}
                Err(source) => {
                    let err = TailError::Read {
                        path: open.path.to_path_buf(),
                        source,
                    };
                    if open.live {
                        // Reopened at the next poll and found again by its
                        // fingerprint (it may be another file by then).
                        self.trouble(batch, Notice::Error(err));
                        self.close();
                        self.queue.clear();
                        self.start = self.resting.clone().map(Start::At);
                        return self.finish(batch);
                    }
                    // A rotated file that cannot be read on (a corrupt gzip): move on.
                    batch.notices.push(Notice::Error(err));
                    if !batch.is_empty() {
                        return self.finish(batch);
                    }
                    self.close();
                    continue;
                }
            }
            if !open.live {
                if !open.flush_partial(batch, &self.opts) || !batch.is_empty() {
                    return self.finish(batch);
                }
                batch.notices.push(Notice::Finished {
                    path: open.path.to_path_buf(),
                });
                self.close();
                continue;
            }
            open.at_eof = true;
        }
        self.finish(batch)
    }

    /// At the end of the followed file: reads on if it grew, otherwise handles
    /// truncation, rotation and deletion.
    fn check_live(&mut self, batch: &mut Batch) -> Step {
        let Some(open) = self.open.as_mut() else {
            return Step::Next;
        };
        let state = match open.check(&self.path) {
            Ok(s) => s,
            Err(source) => {
                let err = TailError::Read {
                    path: self.path.clone(),
                    source,
                };
                self.trouble(batch, Notice::Error(err));
                return Step::Done;
            }
        };
        match state {
            Live::Grew => {
                open.at_eof = false;
                Step::Read
            }
            Live::Unchanged | Live::Moved { ready: false } => Step::Done,
            Live::Truncated => {
                // The batch so far came from the old content (already read):
                // its position is the old file's, kept as the resting one.
                batch.notices.push(Notice::Truncated);
                let old = open.position();
                self.close();
                // copytruncate copied the old content first: its unread rest is there.
                let sibs = siblings(&self.path);
                let found = if old.fingerprint.is_empty() {
                    None
                } else {
                    sibs.iter()
                        .position(|s| content_matches(&s.path, s.gz, &old))
                };
                self.queue_from(&sibs, found, &old, true);
                if batch.is_empty() {
                    Step::Next
                } else {
                    Step::Done
                }
            }
            Live::Moved { ready: true } | Live::Deleted => {
                if !open.flush_partial(batch, &self.opts) || !batch.is_empty() {
                    return Step::Done;
                }
                let deleted = matches!(state, Live::Deleted);
                batch.notices.push(if deleted {
                    Notice::Deleted
                } else {
                    Notice::Rotated
                });
                let old = open.position();
                self.close();
                // Rotated more than once while we read the old file: the
                // generations between it and the new file come first.
                let sibs = siblings(&self.path);
                let by_id = sibs
                    .iter()
                    .position(|s| old.file_id.is_some() && id_of(&s.path) == old.file_id);
                let found = by_id.or_else(|| {
                    if old.fingerprint.is_empty() {
                        None
                    } else {
                        sibs.iter()
                            .position(|s| content_matches(&s.path, s.gz, &old))
                    }
                });
                self.queue_from(&sibs, found, &old, false);
                if deleted {
                    Step::Done
                } else {
                    Step::Next
                }
            }
        }
    }

    fn finish(&mut self, batch: &mut Batch) -> Poll {
        batch.position = self.position();
        if batch.is_empty() {
            Poll::Idle
        } else {
            Poll::Lines
        }
    }

    fn close(&mut self) {
        if let Some(o) = self.open.take() {
            self.resting = Some(o.position());
        }
    }

    /// Reports trouble once until it changes or a file opens.
    fn trouble(&mut self, batch: &mut Batch, notice: Notice) {
        let text = format!("{notice:?}");
        if self.trouble.as_deref() != Some(text.as_str()) {
            self.trouble = Some(text);
            batch.notices.push(notice);
        }
    }

    /// Queues `sibs[found]` from `old` (its remainder, when `with_found`), the
    /// newer siblings from their start, then the followed path from its start.
    fn queue_from(
        &mut self,
        sibs: &[Sibling],
        found: Option<usize>,
        old: &Position,
        with_found: bool,
    ) {
        if let Some(k) = found {
            if with_found {
                self.queue.push_back(Source {
                    path: sibs[k].path.clone(),
                    gz: sibs[k].gz,
                    live: false,
                    from: From::At {
                        offset: old.offset,
                        line: old.line,
                    },
                });
            }
            for s in sibs[..k].iter().rev() {
                self.queue.push_back(Source {
                    path: s.path.clone(),
                    gz: s.gz,
                    live: false,
                    from: ORIGIN,
                });
            }
        }
        self.queue.push_back(Source {
            path: self.path.clone(),
            gz: false,
            live: true,
            from: ORIGIN,
        });
    }

    /// Opens the next file to read; false if there is none to open now.
    fn open_next(&mut self, batch: &mut Batch) -> bool {
        if self.queue.is_empty() {
            match self.start.take() {
                None => self.queue_from(&[], None, &Position::origin(), false),
                Some(Start::Beginning) => self.queue_from(&[], None, &Position::origin(), false),
                Some(Start::End) => {
                    if !self.path.exists() {
                        // A file that appears later is new: all of it is to be read.
                        self.start = Some(Start::Beginning);
                        let path = self.path.clone();
                        self.trouble(batch, Notice::Missing { path });
                        return false;
                    }
                    self.queue.push_back(Source {
                        path: self.path.clone(),
                        gz: false,
                        live: true,
                        from: From::End,
                    });
                }
                Some(Start::At(pos)) => {
                    if !self.plan_resume(&pos, batch) {
                        self.start = Some(Start::At(pos));
                        let path = self.path.clone();
                        self.trouble(batch, Notice::Missing { path });
                        return false;
                    }
                }
            }
        }
        while let Some(src) = self.queue.pop_front() {
            let mut opened = Open::start(&src);
            if let Err(TailError::Open { source, .. }) = &opened {
                // gzip may have replaced a rotated file since it was listed.
                if !src.live && !src.gz && source.kind() == io::ErrorKind::NotFound {
                    let mut gz = src.clone();
                    gz.path = PathBuf::from(format!("{}.gz", src.path.display()));
                    gz.gz = true;
                    opened = Open::start(&gz);
                }
            }
            match opened {
                Ok(open) => {
                    if self.trouble.is_none() {
                        batch.notices.push(Notice::Opened {
                            path: src.path.clone(),
                            offset: open.consumed,
                            line: open.line,
                        });
                    }
                    self.open = Some(open);
                    return true;
                }
                Err(e) if src.live => {
                    // The followed path: wait for it to be readable.
                    let notice = match &e {
                        TailError::Open { source, .. }
                            if source.kind() == io::ErrorKind::NotFound =>
                        {
                            Notice::Missing {
                                path: self.path.clone(),
                            }
                        }
                        _ => Notice::Error(e),
                    };
                    self.trouble(batch, notice);
                    self.queue.push_front(src);
                    return false;
                }
                Err(e) => batch.notices.push(Notice::Error(e)),
            }
        }
        false
    }

    /// Finds the checkpointed file and queues what to read. False if neither
    /// it nor the followed path can be found (wait and try again).
    fn plan_resume(&mut self, pos: &Position, batch: &mut Batch) -> bool {
        let current = self.path.clone();
        let sibs = siblings(&current);
        let resume_current = |this: &mut Follower| {
            this.queue.push_back(Source {
                path: current.clone(),
                gz: false,
                live: true,
                from: From::At {
                    offset: pos.offset,
                    line: pos.line,
                },
            });
        };
        let found_sibling = |this: &mut Follower, batch: &mut Batch, k: usize| {
            batch.notices.push(Notice::Resumed {
                path: sibs[k].path.clone(),
                offset: pos.offset,
            });
            this.queue_from(&sibs, Some(k), pos, true);
        };
        // 1. Same inode and the same first bytes.
        if let Some(hint) = pos.file_id {
            if id_of(&current) == Some(hint) && content_matches(&current, false, pos) {
                resume_current(self);
                return true;
            }
            if let Some(k) = sibs
                .iter()
                .position(|s| id_of(&s.path) == Some(hint) && content_matches(&s.path, s.gz, pos))
            {
                found_sibling(self, batch, k);
                return true;
            }
        }
        // 2. The same first bytes (gzip and copies change the inode).
        if !pos.fingerprint.is_empty() {
            if content_matches(&current, false, pos) {
                resume_current(self);
                return true;
            }
            if let Some(k) = sibs
                .iter()
                .position(|s| content_matches(&s.path, s.gz, pos))
            {
                found_sibling(self, batch, k);
                return true;
            }
        } else if pos.file_id.is_none() && current.exists() {
            // Nothing was read of any file: the current one from its start.
            resume_current(self);
            return true;
        }
        if !current.exists() {
            return false;
        }
        batch.notices.push(Notice::CheckpointNotFound);
        self.queue_from(&[], None, pos, false);
        true
    }
}
