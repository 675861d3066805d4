// SPDX-License-Identifier: GPL-2.0

//! The 16550A UART of one mtty port, with its transmitter looped back into its receiver.
//!
//! Register semantics follow the 16550A datasheet where upstream's mtty sample and the
//! datasheet disagree:
//!
//! - the receive FIFO holds 16 bytes (one with FIFOs off; turning them on or off empties them), and "data ready" means "at least one byte", so a full FIFO
//!   can be read back (upstream derives it from ring indexes and loses a full FIFO);
//! - an overrun drops the new byte, keeps the FIFO and is reported once: reading LSR clears OE;
//! - transmission is instantaneous, so the transmitter is always empty (LSR THRE and TEMT) and
//!   a THR-empty interrupt is pending after every write of THR while it is enabled, until IIR
//!   reports it;
//! - IIR reports the single highest-priority pending source;
//! - the receive interrupt fires at one byte whatever FCR says: without a character-timeout
//!   timer, a higher trigger level would leave a short message unreported.
//!
//! Pure logic with no kernel calls: the host tests in `tools/testing/mdev-host` include this
//! file. Each access returns whether it raised an interrupt: the driver signals the port's
//! interrupt then.

/// Bytes the receive FIFO holds.
pub(crate) const FIFO_SIZE: usize = 16;

/// Register offsets in the port's I/O BAR.
pub(crate) mod reg {
    /// Receive buffer (read), transmit holding (write); divisor latch low with DLAB.
    pub(crate) const RX_TX: u8 = 0;
    /// Interrupt enable; divisor latch high with DLAB.
    pub(crate) const IER: u8 = 1;
    /// Interrupt identification (read), FIFO control (write).
    pub(crate) const IIR_FCR: u8 = 2;
    /// Line control.
    pub(crate) const LCR: u8 = 3;
    /// Modem control.
    pub(crate) const MCR: u8 = 4;
    /// Line status.
    pub(crate) const LSR: u8 = 5;
    /// Modem status.
    pub(crate) const MSR: u8 = 6;
    /// Scratch.
    pub(crate) const SCR: u8 = 7;
}

/// IER: received data available.
pub(crate) const IER_RDI: u8 = 0x01;
/// IER: transmit holding register empty.
pub(crate) const IER_THRI: u8 = 0x02;
/// IER: receiver line status.
pub(crate) const IER_RLSI: u8 = 0x04;
/// IER: modem status.
pub(crate) const IER_MSI: u8 = 0x08;

/// IIR: no interrupt pending.
pub(crate) const IIR_NO_INT: u8 = 0x01;
/// IIR: modem status.
pub(crate) const IIR_MSI: u8 = 0x00;
/// IIR: transmit holding register empty.
pub(crate) const IIR_THRI: u8 = 0x02;
/// IIR: received data available.
pub(crate) const IIR_RDI: u8 = 0x04;
/// IIR: receiver line status.
pub(crate) const IIR_RLSI: u8 = 0x06;
/// IIR: FIFOs enabled, as a 16550A always reports.
pub(crate) const IIR_FIFO_BITS: u8 = 0xc0;

/// FCR: enable the FIFOs.
pub(crate) const FCR_ENABLE_FIFO: u8 = 0x01;
/// FCR: clear the receive FIFO.
pub(crate) const FCR_CLEAR_RCVR: u8 = 0x02;
/// FCR: clear the transmit FIFO.
pub(crate) const FCR_CLEAR_XMIT: u8 = 0x04;

/// LCR: divisor latch access.
pub(crate) const LCR_DLAB: u8 = 0x80;

/// MCR: data terminal ready.
pub(crate) const MCR_DTR: u8 = 0x01;
/// MCR: request to send.
pub(crate) const MCR_RTS: u8 = 0x02;
/// MCR: auto flow control enable.
pub(crate) const MCR_AFE: u8 = 0x20;

/// LSR: data ready.
pub(crate) const LSR_DR: u8 = 0x01;
/// LSR: overrun error.
pub(crate) const LSR_OE: u8 = 0x02;
/// LSR: transmit holding register empty.
pub(crate) const LSR_THRE: u8 = 0x20;
/// LSR: transmitter empty.
pub(crate) const LSR_TEMT: u8 = 0x40;

/// MSR: delta clear to send.
pub(crate) const MSR_DCTS: u8 = 0x01;
/// MSR: delta data set ready.
pub(crate) const MSR_DDSR: u8 = 0x02;
/// MSR: clear to send.
pub(crate) const MSR_CTS: u8 = 0x10;
/// MSR: data set ready.
pub(crate) const MSR_DSR: u8 = 0x20;
/// MSR: data carrier detect.
pub(crate) const MSR_DCD: u8 = 0x80;

/// Size of a port's state in a migration stream.
pub(crate) const SAVED_SIZE: usize = 12 + FIFO_SIZE;

/// Why saved state was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadState;

/// One UART.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Uart {
    fifo: [u8; FIFO_SIZE],
    /// Index of the oldest byte.
    head: u8,
    /// Bytes in the FIFO.
    count: u8,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    fcr: u8,
    divisor: u16,
    /// An overrun not yet reported by a read of LSR.
    overrun: bool,
    /// A THR-empty interrupt not yet reported by a read of IIR.
    thre_pending: bool,
}

impl Default for Uart {
    fn default() -> Self {
        Self::new()
    }
}

impl Uart {
    /// A UART at power-on (and after reset): FIFO empty and enabled, no interrupt enabled.
    pub(crate) const fn new() -> Self {
        Self {
            fifo: [0; FIFO_SIZE],
            head: 0,
            count: 0,
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            fcr: FCR_ENABLE_FIFO,
            divisor: 0,
            overrun: false,
            thre_pending: false,
        }
    }

    fn capacity(&self) -> usize {
        if self.fcr & FCR_ENABLE_FIFO != 0 {
            FIFO_SIZE
        } else {
            1
        }
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    /// The pending interrupt source of the highest priority, as IIR reports it.
    fn interrupt_id(&self) -> u8 {
        if self.ier & IER_RLSI != 0 && self.overrun {
            IIR_RLSI
        } else if self.ier & IER_RDI != 0 && self.count > 0 {
            IIR_RDI
        } else if self.ier & IER_THRI != 0 && self.thre_pending {
            IIR_THRI
        } else if self.ier & IER_MSI != 0 && self.mcr & (MCR_RTS | MCR_DTR) != 0 {
            IIR_MSI
        } else {
            IIR_NO_INT
        }
    }

    /// Whether the port asserts its interrupt.
    pub(crate) fn interrupt_pending(&self) -> bool {
        self.interrupt_id() != IIR_NO_INT
    }

    /// Bytes waiting in the receive FIFO.
    #[cfg(test)]
    pub(crate) fn rx_count(&self) -> usize {
        self.count.into()
    }

    fn receive(&mut self, byte: u8) {
        if usize::from(self.count) < self.capacity() {
            let tail = (usize::from(self.head) + usize::from(self.count)) % FIFO_SIZE;
            self.fifo[tail] = byte;
            self.count += 1;
        } else {
            self.overrun = true;
        }
    }

    /// Reads register `offset` (0 to 7).
    ///
    /// A read never raises the interrupt: it can only take a cause away (a received byte, the
    /// overrun, the empty holding register).
    pub(crate) fn read(&mut self, offset: u8) -> u8 {
        match offset {
            reg::RX_TX if self.dlab() => self.divisor as u8,
            reg::RX_TX => {
                if self.count == 0 {
                    0
                } else {
                    let byte = self.fifo[usize::from(self.head)];
                    self.head = ((usize::from(self.head) + 1) % FIFO_SIZE) as u8;
                    self.count -= 1;
                    byte
                }
            }
            reg::IER if self.dlab() => (self.divisor >> 8) as u8,
            reg::IER => self.ier,
            reg::IIR_FCR => {
                let id = self.interrupt_id();
                if id == IIR_THRI {
                    self.thre_pending = false;
                }
                id | IIR_FIFO_BITS
            }
            reg::LCR => self.lcr,
            reg::MCR => self.mcr,
            reg::LSR => {
                let mut lsr = LSR_THRE | LSR_TEMT;
                if self.count > 0 {
                    lsr |= LSR_DR;
                }
                if self.overrun {
                    lsr |= LSR_OE;
                    self.overrun = false;
                }
                lsr
            }
            reg::MSR => {
                let mut msr = MSR_DSR | MSR_DDSR | MSR_DCD;
                if self.mcr & MCR_AFE == 0 || usize::from(self.count) < self.capacity() {
                    msr |= MSR_CTS | MSR_DCTS;
                }
                msr
            }
            reg::SCR => self.scr,
            _ => 0,
        }
    }

    /// Writes `value` to register `offset` (0 to 7).
    ///
    /// Returns whether the write raised the interrupt: the line went up, or a byte arrived while
    /// it was up. Only a received byte, IER and MCR can do that; the other registers return
    /// without looking at the interrupt state.
    pub(crate) fn write(&mut self, offset: u8, value: u8) -> bool {
        match offset {
            reg::RX_TX if self.dlab() => {
                self.divisor = (self.divisor & 0xff00) | u16::from(value);
                false
            }
            reg::RX_TX => {
                self.receive(value);
                // Sent at once: the holding register is empty again.
                self.thre_pending = true;
                self.interrupt_pending()
            }
            reg::IER if self.dlab() => {
                self.divisor = (self.divisor & 0x00ff) | (u16::from(value) << 8);
                false
            }
            reg::IER => {
                let before = self.interrupt_pending();
                if value & IER_THRI != 0 && self.ier & IER_THRI == 0 {
                    self.thre_pending = true;
                }
                self.ier = value & 0x0f;
                !before && self.interrupt_pending()
            }
            reg::IIR_FCR => {
                // Turning the FIFOs on or off empties them, as clearing does.
                let toggled = (value ^ self.fcr) & FCR_ENABLE_FIFO != 0;
                if toggled || value & FCR_CLEAR_RCVR != 0 {
                    self.head = 0;
                    self.count = 0;
                }
                self.fcr = value & !(FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
                false
            }
            reg::LCR => {
                self.lcr = value;
                false
            }
            reg::MCR => {
                let before = self.interrupt_pending();
                self.mcr = value;
                !before && self.interrupt_pending()
            }
            reg::SCR => {
                self.scr = value;
                false
            }
            // LSR and MSR are read-only.
            _ => false,
        }
    }

    /// The port's state for a migration stream.
    pub(crate) fn save(&self) -> [u8; SAVED_SIZE] {
        let mut out = [0u8; SAVED_SIZE];
        out[0] = self.head;
        out[1] = self.count;
        out[2] = self.ier;
        out[3] = self.lcr;
        out[4] = self.mcr;
        out[5] = self.scr;
        out[6] = self.fcr;
        out[7..9].copy_from_slice(&self.divisor.to_le_bytes());
        out[9] = u8::from(self.overrun);
        out[10] = u8::from(self.thre_pending);
        out[11] = 0;
        out[12..].copy_from_slice(&self.fifo);
        out
    }

    /// A port from its state in a migration stream; refuses state no port can be in.
    pub(crate) fn restore(data: &[u8]) -> Result<Self, BadState> {
        if data.len() != SAVED_SIZE {
            return Err(BadState);
        }
        let flag = |b: u8| match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(BadState),
        };
        let uart = Self {
            head: data[0],
            count: data[1],
            ier: data[2],
            lcr: data[3],
            mcr: data[4],
            scr: data[5],
            fcr: data[6],
            divisor: u16::from_le_bytes([data[7], data[8]]),
            overrun: flag(data[9])?,
            thre_pending: flag(data[10])?,
            fifo: {
                let mut fifo = [0u8; FIFO_SIZE];
                fifo.copy_from_slice(&data[12..]);
                fifo
            },
        };
        if data[11] != 0
            || usize::from(uart.head) >= FIFO_SIZE
            || usize::from(uart.count) > uart.capacity()
            || uart.ier & !0x0f != 0
            || uart.fcr & (FCR_CLEAR_RCVR | FCR_CLEAR_XMIT) != 0
        {
            return Err(BadState);
        }
        Ok(uart)
    }
}
