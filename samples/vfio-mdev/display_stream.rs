// SPDX-License-Identifier: GPL-2.0

//! The migration stream of the display samples (`mdpy_rs`, `mbochs_rs`): the device's memory
//! (framebuffer or video memory) a page at a time, and its device state. Pure logic, no kernel
//! calls: the host tests and fuzz targets in `tools/testing/mdev-host` include this file.
//!
//! Layout, every number little-endian:
//!
//! - a header of [`HEADER_SIZE`] bytes: the sample's magic (8 bytes), the format's version, the
//!   instance's type index, the size of its memory, and a zero word;
//! - records, each a tag and an argument (a `u32` each) followed by its payload:
//!   - [`TAG_PAGE`] `index`: the [`PAGE_SIZE`] bytes of page `index` of the memory;
//!   - [`TAG_STATE`] `length`: `length` bytes of device state, in the sample's own layout;
//!   - [`TAG_END`] `0`: the end; nothing follows it.
//!
//! The initial phase (sent while the device still runs, in PRE_COPY) is the header and a page
//! record for every page that is not all zero, in ascending order. The stop-copy phase is one
//! state record, a page record for every page that changed since (or was zero then and is not
//! now), and the end record. Loading zeroes the memory and applies the page records in order,
//! a later record of a page replacing an earlier one.

/// Bytes of a page record's payload.
pub(crate) const PAGE_SIZE: usize = 4096;
/// Bytes of the header.
pub(crate) const HEADER_SIZE: usize = 24;
/// Bytes of a record's tag and argument.
pub(crate) const RECORD_HEAD: usize = 8;
/// A page record: bytes [`RECORD_HEAD`] and [`PAGE_SIZE`] together.
pub(crate) const PAGE_RECORD: usize = RECORD_HEAD + PAGE_SIZE;

/// Tag of a page record.
pub(crate) const TAG_PAGE: u32 = 1;
/// Tag of the state record.
pub(crate) const TAG_STATE: u32 = 2;
/// Tag of the end record.
pub(crate) const TAG_END: u32 = 3;

/// What a stream's header says, and what a resuming instance expects it to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The sample's magic.
    pub(crate) magic: [u8; 8],
    /// The format's version.
    pub(crate) version: u32,
    /// The instance's type index.
    pub(crate) type_index: u32,
    /// Bytes of the device's memory, a multiple of [`PAGE_SIZE`].
    pub(crate) memory_size: u32,
}

impl Header {
    /// The header as the stream carries it.
    pub(crate) fn bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[..8].copy_from_slice(&self.magic);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[12..16].copy_from_slice(&self.type_index.to_le_bytes());
        b[16..20].copy_from_slice(&self.memory_size.to_le_bytes());
        b
    }

    /// Pages of the device's memory.
    pub(crate) fn pages(&self) -> usize {
        self.memory_size as usize / PAGE_SIZE
    }

    /// The most bytes a complete stream holds: every page twice (once per phase), the state
    /// record and the end.
    pub(crate) fn max_stream_size(&self, state_len: usize) -> usize {
        HEADER_SIZE + 2 * self.pages() * PAGE_RECORD + RECORD_HEAD + state_len + RECORD_HEAD
    }

    /// The most bytes a save sends once the device stopped, when the memory does not change
    /// while it is stopped: every page once, the state record and the end, and the header
    /// (a device stopped without pre-copy sends its whole stream then).
    pub(crate) fn stop_copy_size(&self, state_len: usize) -> usize {
        HEADER_SIZE + self.pages() * PAGE_RECORD + RECORD_HEAD + state_len + RECORD_HEAD
    }
}

/// The tag and argument of a record.
pub(crate) fn record_head(tag: u32, arg: u32) -> [u8; RECORD_HEAD] {
    let mut b = [0u8; RECORD_HEAD];
    b[..4].copy_from_slice(&tag.to_le_bytes());
    b[4..].copy_from_slice(&arg.to_le_bytes());
    b
}

/// Why a stream is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The header is not the resuming instance's (another sample, version, type or size).
    Header,
    /// A record or the header is cut short.
    Truncated,
    /// A record with an unknown tag (or an end record with an argument).
    Tag,
    /// A page record beyond the memory.
    PageIndex,
    /// A state record of the wrong length.
    StateLength,
    /// No state record, or more than one.
    StateCount,
    /// No end record.
    NoEnd,
    /// Bytes after the end record.
    AfterEnd,
}

/// One record of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record<'a> {
    /// A page: its index and bytes.
    Page(usize, &'a [u8]),
    /// The device state.
    State(&'a [u8]),
    /// The end.
    End,
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads the record at offset `at` of `data` (records of at most `pages` pages); returns it and
/// the offset of the next one, `None` at the end of `data`.
pub(crate) fn record_at(
    data: &[u8],
    at: usize,
    pages: usize,
) -> Option<Result<(Record<'_>, usize), Refused>> {
    let rest = data.get(at..)?;
    if rest.is_empty() {
        return None;
    }
    let read = || {
        let head = rest.get(..RECORD_HEAD).ok_or(Refused::Truncated)?;
        let (tag, arg) = (le32(&head[..4]), le32(&head[4..]));
        let body = &rest[RECORD_HEAD..];
        let (record, len) = match tag {
            TAG_PAGE => {
                let index = arg as usize;
                if index >= pages {
                    return Err(Refused::PageIndex);
                }
                let page = body.get(..PAGE_SIZE).ok_or(Refused::Truncated)?;
                (Record::Page(index, page), PAGE_SIZE)
            }
            TAG_STATE => {
                let state = body.get(..arg as usize).ok_or(Refused::Truncated)?;
                (Record::State(state), arg as usize)
            }
            TAG_END if arg == 0 => (Record::End, 0),
            _ => return Err(Refused::Tag),
        };
        Ok((record, at + RECORD_HEAD + len))
    };
    Some(read())
}

/// Checks the beginning of a resuming stream as it arrives: once the header is complete, it
/// must be `expected`.
pub(crate) fn check_prefix(data: &[u8], expected: &Header) -> Result<(), Refused> {
    match data.get(..HEADER_SIZE) {
        Some(header) if header != expected.bytes() => Err(Refused::Header),
        _ => Ok(()),
    }
}

/// Checks a complete stream: `expected`'s header, well-formed records, exactly one state record
/// of `state_len` bytes, the end record last. Returns the state.
pub(crate) fn check<'a>(
    data: &'a [u8],
    expected: &Header,
    state_len: usize,
) -> Result<&'a [u8], Refused> {
    if data.len() < HEADER_SIZE {
        return Err(Refused::Truncated);
    }
    check_prefix(data, expected)?;
    let mut state = None;
    let mut at = HEADER_SIZE;
    while let Some(record) = record_at(data, at, expected.pages()) {
        let (record, next) = record?;
        match record {
            Record::Page(..) => {}
            Record::State(s) if s.len() != state_len => return Err(Refused::StateLength),
            Record::State(_) if state.is_some() => return Err(Refused::StateCount),
            Record::State(s) => state = Some(s),
            Record::End if next != data.len() => return Err(Refused::AfterEnd),
            Record::End => return state.ok_or(Refused::StateCount),
        }
        at = next;
    }
    Err(Refused::NoEnd)
}

/// The page records of a stream that [`check`] accepted, in order.
pub(crate) fn pages<'a>(
    data: &'a [u8],
    header: &Header,
) -> impl Iterator<Item = (usize, &'a [u8])> + 'a {
    let pages = header.pages();
    let mut at = HEADER_SIZE;
    core::iter::from_fn(move || loop {
        let (record, next) = record_at(data, at, pages)?.ok()?;
        at = next;
        match record {
            Record::Page(index, bytes) => return Some((index, bytes)),
            Record::State(_) => continue,
            Record::End => return None,
        }
    })
}

/// Copies `src` to the start of `dst`, as far as both go.
///
/// A sink hands `fill` exactly the bytes it was asked for, so nothing is cut short; unlike
/// `copy_from_slice`, this cannot end in a length-mismatch panic, which the fills' length
/// (known only to the sink) would otherwise make the compiler keep.
fn put(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Whether a page holds only zeroes (and needs no record).
pub(crate) fn is_zero(page: &[u8]) -> bool {
    page.iter().all(|&b| b == 0)
}

/// A callback that fills bytes appended to a [`Sink`] in place.
pub(crate) type Fill<'a, E> = dyn FnMut(&mut [u8]) -> Result<(), E> + 'a;

/// The end of a saving stream, as the save functions below write it: the driver's migration
/// stream writer in the kernel, a vector in the host tests.
pub(crate) trait Sink {
    /// What a failed write or read gives.
    type Error;

    /// Everything in the stream so far, earlier phases included.
    fn stream(&self) -> &[u8];

    /// Appends `len` bytes that `fill` writes in place; `fill` gets exactly `len` bytes.
    fn append(&mut self, len: usize, fill: &mut Fill<'_, Self::Error>) -> Result<(), Self::Error>;

    /// Drops what was appended after the stream was `len` bytes long (never less than the
    /// phase began with).
    fn rewind(&mut self, len: usize);
}

/// Appends the record of page `index`, read by `read`, unless `keep` says otherwise of its
/// bytes.
fn page_record<S: Sink>(
    out: &mut S,
    index: usize,
    read: &mut impl FnMut(usize, &mut [u8]) -> Result<(), S::Error>,
    keep: impl FnOnce(&[u8], &[u8]) -> bool,
) -> Result<(), S::Error> {
    let mark = out.stream().len();
    out.append(PAGE_RECORD, &mut |buf| {
        put(buf, &record_head(TAG_PAGE, index as u32));
        read(index, &mut buf[RECORD_HEAD..])
    })?;
    let stream = out.stream();
    if !keep(stream, &stream[mark + RECORD_HEAD..]) {
        out.rewind(mark);
    }
    Ok(())
}

/// Writes the initial phase: `header` and a record of every page that is not all zero, which
/// `read(index, buf)` reads from the device's memory.
pub(crate) fn save_initial<S: Sink>(
    out: &mut S,
    header: &Header,
    mut read: impl FnMut(usize, &mut [u8]) -> Result<(), S::Error>,
) -> Result<(), S::Error> {
    out.append(HEADER_SIZE, &mut |buf| {
        put(buf, &header.bytes());
        Ok(())
    })?;
    for index in 0..header.pages() {
        page_record(out, index, &mut read, |_, page| !is_zero(page))?;
    }
    Ok(())
}

/// Writes the stop-copy phase after the initial one ([`save_initial`] with the same `header`):
/// the device `state`, a record of every page that differs from its record in the initial
/// phase (or had none and is not all zero now), and the end.
pub(crate) fn save_final<S: Sink>(
    out: &mut S,
    header: &Header,
    state: &[u8],
    mut read: impl FnMut(usize, &mut [u8]) -> Result<(), S::Error>,
) -> Result<(), S::Error> {
    let initial_end = out.stream().len();
    out.append(RECORD_HEAD + state.len(), &mut |buf| {
        put(buf, &record_head(TAG_STATE, state.len() as u32));
        put(&mut buf[RECORD_HEAD..], state);
        Ok(())
    })?;
    let pages = header.pages();
    // The initial phase's page records ascend: walk them beside the pages.
    let mut next_sent = HEADER_SIZE;
    for index in 0..pages {
        let mut sent = None;
        if next_sent < initial_end {
            if let Some(Ok((Record::Page(i, _), next))) =
                record_at(&out.stream()[..initial_end], next_sent, pages)
            {
                if i == index {
                    sent = Some(next_sent + RECORD_HEAD);
                    next_sent = next;
                }
            }
        }
        page_record(out, index, &mut read, |stream, now| match sent {
            Some(at) => stream[at..at + PAGE_SIZE] != *now,
            None => !is_zero(now),
        })?;
    }
    out.append(RECORD_HEAD, &mut |buf| {
        put(buf, &record_head(TAG_END, 0));
        Ok(())
    })
}
