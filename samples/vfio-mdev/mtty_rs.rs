// SPDX-License-Identifier: GPL-2.0

//! mtty in Rust: a virtual PCI serial card (4348:3253) whose 16550A UARTs loop transmitted
//! bytes back, the user-visible twin of upstream's `samples/vfio-mdev/mtty.c`.
//!
//! Types `mtty-1` (one port) and `mtty-2` (two ports) share a budget of [`MAX_PORTS`] ports.
//! Each port is an 8-byte I/O BAR (BAR0, and BAR1 on `mtty-2`) holding a UART
//! (`mtty_uart.rs`); the configuration space is `mtty_config.rs`. Interrupts go to userspace
//! through an eventfd, as INTx (automasked, level-triggered: unmasking with a source still
//! pending fires again) or MSI. Live migration (stop-copy, P2P, pre-copy) saves a versioned
//! stream: a header while the device still runs, then configuration space and UARTs. The device
//! models are pure Rust with host tests; this file binds them to kernel::mdev, in safe Rust only.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{
    c_str,
    eventfd::EventFd,
    fmt,
    mdev::{self, Device},
    new_mutex,
    prelude::*,
    str::{CStr, CString},
    sync::Mutex,
    vfio::{self, migration, pci, IrqAction, IrqData, IrqSet},
};

#[path = "mtty_config.rs"]
mod config;
#[path = "pci_config.rs"]
mod pci_config;
#[path = "mtty_uart.rs"]
mod uart;

use pci_config::ConfigSpace;
use uart::Uart;

module! {
    type: MttyModule,
    name: "mtty_rs",
    author: "mdev-rs developers",
    description: "Mediated virtual PCI serial card (Rust)",
    license: "GPL v2",
}

/// Ports all instances share.
const MAX_PORTS: usize = 24;

/// Migration stream header: magic, version, number of ports, flags (all little-endian).
const STREAM_MAGIC: u64 = 0x3130_5352_5954_544d; // "MTTYRS01"
const STREAM_VERSION: u32 = 1;
const HEADER_SIZE: usize = 20;

/// Size of a complete migration stream of a card with `nr_ports` ports.
const fn stream_size(nr_ports: usize) -> usize {
    HEADER_SIZE + pci_config::SIZE + nr_ports * uart::SAVED_SIZE
}

/// The parent: ports not yet given to an instance.
struct Mtty {
    available_ports: AtomicUsize,
}

/// How the card signals its interrupt.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IrqMode {
    None,
    Intx,
    Msi,
}

/// Interrupt delivery: the eventfd of the mode in use.
struct Irq {
    mode: IrqMode,
    trigger: Option<EventFd>,
    /// INTx is masked (by userspace, or automatically when it fired).
    masked: bool,
}

impl Irq {
    const fn new() -> Self {
        Self {
            mode: IrqMode::None,
            trigger: None,
            masked: false,
        }
    }

    /// Signals the interrupt as the mode says; INTx masks itself.
    fn fire(&mut self) {
        let Some(trigger) = &self.trigger else {
            return;
        };
        match self.mode {
            IrqMode::Msi => trigger.signal(),
            IrqMode::Intx if !self.masked => {
                trigger.signal();
                self.masked = true;
            }
            _ => {}
        }
    }
}

/// The state of one card, under one lock.
struct State {
    config: ConfigSpace,
    ports: [Uart; 2],
    irq: Irq,
}

impl State {
    fn interrupt_pending(&self, nr_ports: usize) -> bool {
        self.ports[..nr_ports].iter().any(Uart::interrupt_pending)
    }
}

/// One instance.
#[pin_data]
struct Card {
    nr_ports: usize,
    #[pin]
    state: Mutex<State>,
}

impl Card {
    /// The header of this card's streams.
    fn header(&self) -> [u8; HEADER_SIZE] {
        let mut header = [0u8; HEADER_SIZE];
        header[..8].copy_from_slice(&STREAM_MAGIC.to_le_bytes());
        header[8..12].copy_from_slice(&STREAM_VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&(self.nr_ports as u32).to_le_bytes());
        // bytes 16..20: flags, none yet
        header
    }

    /// Refuses a stream whose header (once complete) is not this card's.
    fn check_header(&self, data: &[u8]) -> Result {
        if data.len() < HEADER_SIZE {
            return Ok(());
        }
        if data[..HEADER_SIZE] != self.header() {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// The port behind device-file offset `offset`, and the register there, for an access of
    /// `len` bytes.
    fn port_register(&self, offset: u64, len: usize) -> Result<Option<(usize, u8)>> {
        let index = pci::offset_to_index(offset);
        let at = pci::offset_in_region(offset);
        if index == u64::from(pci::CONFIG_REGION_INDEX) {
            return Ok(None);
        }
        let port = index
            .checked_sub(u64::from(pci::BAR0_REGION_INDEX))
            .and_then(|p| usize::try_from(p).ok())
            .filter(|&p| p < self.nr_ports)
            // Upstream answers accesses to regions the card lacks with EFAULT.
            .ok_or(EFAULT)?;
        let end = at.checked_add(len as u64).ok_or(EINVAL)?;
        if end > u64::from(config::BAR_SIZE) {
            return Err(EINVAL);
        }
        Ok(Some((port, at as u8)))
    }

    fn set_intx(&self, state: &mut State, set: &IrqSet<'_>) -> Result {
        let one = set.start == 0 && set.count == 1;
        match set.action {
            IrqAction::Mask | IrqAction::Unmask => {
                if state.irq.mode != IrqMode::Intx || !one {
                    return Err(EINVAL);
                }
                let act = match set.data {
                    IrqData::None => true,
                    IrqData::Bool(b) => b[0] != 0,
                    IrqData::Eventfd(_) => return Err(ENOTTY),
                };
                if act && set.action == IrqAction::Mask {
                    state.irq.masked = true;
                } else if act {
                    state.irq.masked = false;
                    // A level-triggered line still asserted fires again once unmasked.
                    if state.interrupt_pending(self.nr_ports) {
                        state.irq.fire();
                    }
                }
                Ok(())
            }
            IrqAction::Trigger => self.set_trigger(state, set, IrqMode::Intx),
        }
    }

    fn set_trigger(&self, state: &mut State, set: &IrqSet<'_>, mode: IrqMode) -> Result {
        if state.irq.mode == mode && set.count == 0 && set.data == IrqData::None {
            state.irq = Irq::new();
            return Ok(());
        }
        let free = state.irq.mode == IrqMode::None;
        if !(state.irq.mode == mode || free) || set.start != 0 || set.count != 1 {
            return Err(EINVAL);
        }
        match set.data {
            IrqData::Eventfd(fds) => {
                state.irq = Irq::new();
                if fds[0] >= 0 {
                    state.irq.trigger = Some(EventFd::from_fd(fds[0])?);
                    state.irq.mode = mode;
                }
                Ok(())
            }
            _ if free => Err(EINVAL),
            IrqData::None => {
                state.irq.fire();
                Ok(())
            }
            IrqData::Bool(b) => {
                if b[0] != 0 {
                    state.irq.fire();
                }
                Ok(())
            }
        }
    }
}

#[vtable]
impl mdev::Driver for Mtty {
    type Instance = Pin<KBox<Card>>;

    const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
    const TYPES: &'static [mdev::TypeInfo] = &[
        mdev::TypeInfo {
            sysfs_name: c_str!("1"),
            name: c_str!("Single port serial"),
            max_resolution: None,
        },
        mdev::TypeInfo {
            sysfs_name: c_str!("2"),
            name: c_str!("Dual port serial"),
            max_resolution: None,
        },
    ];
    const INSTANCE_ATTRIBUTE_GROUP: Option<&'static CStr> = Some(c_str!("vendor"));
    const INSTANCE_ATTRIBUTES: &'static [&'static CStr] = &[c_str!("sample_mdev_dev")];

    fn available_instances(&self, type_index: usize) -> usize {
        self.available_ports.load(Ordering::Relaxed) / (type_index + 1)
    }

    fn create(&self, _mdev: &Device, type_index: usize) -> Result<Pin<KBox<Card>>> {
        let ports = type_index + 1;
        self.available_ports
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                n.checked_sub(ports)
            })
            .map_err(|_| ENOSPC)?;
        let card = KBox::pin_init(
            pin_init!(Card {
                nr_ports: ports,
                state <- new_mutex!(State {
                    config: config::new(ports),
                    ports: [Uart::new(), Uart::new()],
                    irq: Irq::new(),
                }),
            }),
            GFP_KERNEL,
        );
        if card.is_err() {
            self.available_ports.fetch_add(ports, Ordering::AcqRel);
        }
        card
    }

    fn remove(&self, _mdev: &Device, card: Pin<KBox<Card>>) {
        let nr_ports = card.nr_ports;
        drop(card);
        self.available_ports.fetch_add(nr_ports, Ordering::AcqRel);
    }

    fn close(&self, _mdev: &Device, card: Pin<&Card>) {
        card.state.lock().irq = Irq::new();
    }

    fn read(&self, _mdev: &Device, card: Pin<&Card>, buf: &mut [u8], offset: u64) -> Result<usize> {
        let mut state = card.state.lock();
        match card.port_register(offset, buf.len())? {
            None => state
                .config
                .read(pci::offset_in_region(offset), buf)
                .map_err(|_| EINVAL)?,
            Some((port, reg)) => {
                let uart = &mut state.ports[port];
                // `port_register` checked that the access ends inside the port's 8 registers.
                for (i, byte) in buf.iter_mut().enumerate() {
                    *byte = uart.read(reg.wrapping_add(i as u8));
                }
            }
        }
        Ok(buf.len())
    }

    fn write(&self, _mdev: &Device, card: Pin<&Card>, buf: &[u8], offset: u64) -> Result<usize> {
        let mut state = card.state.lock();
        match card.port_register(offset, buf.len())? {
            None => state
                .config
                .write(pci::offset_in_region(offset), buf)
                .map_err(|_| EINVAL)?,
            Some((port, reg)) => {
                let State { ports, irq, .. } = &mut *state;
                let uart = &mut ports[port];
                // `port_register` checked that the access ends inside the port's 8 registers.
                for (i, &byte) in buf.iter().enumerate() {
                    if uart.write(reg.wrapping_add(i as u8), byte) {
                        irq.fire();
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn device_info(&self, _mdev: &Device, _card: Pin<&Card>) -> Result<vfio::DeviceInfo> {
        Ok(vfio::DeviceInfo {
            flags: vfio::DEVICE_FLAGS_PCI | vfio::DEVICE_FLAGS_RESET,
            num_regions: pci::NUM_REGIONS,
            num_irqs: pci::NUM_IRQS,
        })
    }

    fn region_info(
        &self,
        _mdev: &Device,
        card: Pin<&Card>,
        index: u32,
        _caps: &mut vfio::CapChain,
    ) -> Result<vfio::RegionInfo> {
        if index >= pci::NUM_REGIONS {
            return Err(EINVAL);
        }
        let bar = index.wrapping_sub(pci::BAR0_REGION_INDEX) as usize;
        let size = if index == pci::CONFIG_REGION_INDEX {
            pci_config::SIZE as u64
        } else if bar < card.nr_ports {
            config::BAR_SIZE.into()
        } else {
            0
        };
        Ok(vfio::RegionInfo {
            flags: vfio::REGION_INFO_FLAG_READ | vfio::REGION_INFO_FLAG_WRITE,
            size,
            offset: pci::region_offset(index),
        })
    }

    fn irq_info(&self, _mdev: &Device, _card: Pin<&Card>, index: u32) -> Result<vfio::IrqInfo> {
        let flags = match index {
            pci::INTX_IRQ_INDEX => vfio::IRQ_INFO_MASKABLE | vfio::IRQ_INFO_AUTOMASKED,
            pci::MSI_IRQ_INDEX => vfio::IRQ_INFO_NORESIZE,
            _ => return Err(EINVAL),
        };
        Ok(vfio::IrqInfo {
            flags: vfio::IRQ_INFO_EVENTFD | flags,
            count: 1,
        })
    }

    fn set_irqs(&self, _mdev: &Device, card: Pin<&Card>, set: IrqSet<'_>) -> Result {
        let mut state = card.state.lock();
        match set.index {
            pci::INTX_IRQ_INDEX => card.set_intx(&mut state, &set),
            pci::MSI_IRQ_INDEX if set.action == IrqAction::Trigger => {
                card.set_trigger(&mut state, &set, IrqMode::Msi)
            }
            _ => Err(ENOTTY),
        }
    }

    fn reset(&self, _mdev: &Device, card: Pin<&Card>) -> Result {
        let mut state = card.state.lock();
        state.ports = [Uart::new(), Uart::new()];
        Ok(())
    }

    const MIGRATION_FLAGS: u32 = migration::STOP_COPY | migration::P2P | migration::PRE_COPY;
    const MIGRATION_STREAM: Option<mdev::MigrationStream> = Some(mdev::MigrationStream {
        name: c_str!("mtty_rs"),
        version: STREAM_VERSION,
    });

    fn migration_data_size(&self, _mdev: &Device, card: Pin<&Card>) -> usize {
        stream_size(card.nr_ports)
    }

    fn save_state(
        &self,
        _mdev: &Device,
        card: Pin<&Card>,
        phase: migration::SavePhase,
        out: &mut migration::StreamWriter<'_>,
    ) -> Result {
        if phase == migration::SavePhase::Initial {
            return out.write(&card.header());
        }
        let state = card.state.lock();
        out.write(state.config.bytes())?;
        for port in &state.ports[..card.nr_ports] {
            out.write(&port.save())?;
        }
        Ok(())
    }

    fn check_state(&self, _mdev: &Device, card: Pin<&Card>, data: &[u8]) -> Result {
        card.check_header(data)
    }

    fn load_state(&self, _mdev: &Device, card: Pin<&Card>, data: &[u8]) -> Result {
        if data.len() != stream_size(card.nr_ports) {
            return Err(EINVAL);
        }
        card.check_header(data)?;
        let mut state = card.state.lock();
        let mut config = state.config.clone();
        let (saved_config, saved_ports) = data[HEADER_SIZE..].split_at(pci_config::SIZE);
        config.restore(saved_config).map_err(|_| EINVAL)?;
        let mut ports = [Uart::new(), Uart::new()];
        for (port, saved) in ports
            .iter_mut()
            .zip(saved_ports.chunks_exact(uart::SAVED_SIZE))
        {
            *port = Uart::restore(saved).map_err(|_| EINVAL)?;
        }
        state.config = config;
        state.ports = ports;
        Ok(())
    }

    fn show_instance_attribute(
        &self,
        mdev: &Device,
        _card: Pin<&Card>,
        _index: usize,
    ) -> Result<CString> {
        CString::try_from_fmt(fmt!("This is MDEV {}", mdev.name()))
    }

    // The card never writes guest memory: dirty logging has nothing to report.
    fn log_start(&self, _mdev: &Device, _card: Pin<&Card>, _page_size: &mut u64) -> Result {
        Ok(())
    }

    fn log_stop(&self, _mdev: &Device, _card: Pin<&Card>) -> Result {
        Ok(())
    }

    fn log_read_and_clear(
        &self,
        _mdev: &Device,
        _card: Pin<&Card>,
        _iova: u64,
        _length: u64,
    ) -> Result {
        Ok(())
    }
}

struct MttyModule {
    _parent: Pin<KBox<mdev::Registration<Mtty>>>,
}

impl kernel::Module for MttyModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let parent = KBox::pin_init(
            mdev::Registration::new(
                module,
                c_str!("mtty"),
                Mtty {
                    available_ports: AtomicUsize::new(MAX_PORTS),
                },
            ),
            GFP_KERNEL,
        )?;
        Ok(MttyModule { _parent: parent })
    }
}
