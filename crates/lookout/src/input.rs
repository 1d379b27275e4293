//! Reading NMEA input: files, gzip files and stdin, line by line in large
//! chunks.
//!
//! Inputs are read in 1 MiB chunks and split into lines without copying
//! each line; a `.gz` file (recognised by its magic bytes, whatever its name)
//! is decompressed on the fly. `-` means standard input.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read};

const CHUNK: usize = 1 << 20;

/// Open `path` (`-` for stdin), transparently gunzipping.
pub fn open(path: &str) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path)?)
    };
    let mut reader = BufReader::with_capacity(CHUNK, raw);
    let magic = {
        use std::io::BufRead;
        let buf = reader.fill_buf()?;
        buf.len() >= 2 && buf[0] == 0x1f && buf[1] == 0x8b
    };
    if magic {
        Ok(Box::new(MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Call `f` for every line of `reader` (without the line terminator). A last
/// line without a newline is delivered too.
pub fn for_each_line(mut reader: impl Read, mut f: impl FnMut(&[u8])) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut start = 0; // unconsumed bytes are buf[start..end]
    let mut end = 0;
    loop {
        if end == buf.len() {
            if start == 0 {
                // A line longer than the buffer: grow (bounded by input).
                buf.resize(buf.len() * 2, 0);
            } else {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
        }
        let n = match reader.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if start < end {
                f(&buf[start..end]);
            }
            return Ok(());
        }
        let scan_from = end;
        end += n;
        let mut pos = start;
        for nl in memchr::memchr_iter(b'\n', &buf[scan_from..end]) {
            let nl = scan_from + nl;
            f(&buf[pos..nl]);
            pos = nl + 1;
        }
        start = pos;
        if start == end {
            start = 0;
            end = 0;
        }
    }
}
