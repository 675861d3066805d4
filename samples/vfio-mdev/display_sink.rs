// SPDX-License-Identifier: GPL-2.0

//! The display samples' migration streams in the kernel: the save functions of
//! `display_stream.rs` write through the binding's stream writer.

use super::display_stream::{Fill, Sink};
use kernel::{prelude::*, vfio::migration::StreamWriter};

impl Sink for StreamWriter<'_> {
    type Error = Error;

    fn stream(&self) -> &[u8] {
        StreamWriter::stream(self)
    }

    fn append(&mut self, len: usize, fill: &mut Fill<'_, Error>) -> Result {
        self.write_with(len, fill)
    }

    fn rewind(&mut self, len: usize) {
        StreamWriter::rewind(self, len)
    }
}
