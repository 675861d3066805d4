// SPDX-License-Identifier: GPL-2.0
/*
 * A small VFIO client for `make run`: open an mtty instance through VFIO,
 * print its PCI config space, and send a string through the UART of BAR0,
 * reading each byte back from the loopback FIFO.
 *
 * usage: mtty_demo UUID [STRING]
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>

#include "mdev_util.h"

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const char *msg = argc > 2 ? argv[2] : "hello from mdev";
	struct vfio_dev vd;
	char echo[256];
	unsigned int i, n = 0;
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s UUID [STRING]\n", argv[0]);
		return 2;
	}
	err = vfio_open_mdev(argv[1], &vd);
	if (err) {
		fprintf(stderr, "cannot open %s through VFIO: %s\n", argv[1],
			strerror(-err));
		return 1;
	}
	printf("VFIO: group %d, device fd %d\n", vd.group_id, vd.device);
	if (!ioctl(vd.device, VFIO_DEVICE_GET_INFO, &info))
		printf("VFIO_DEVICE_GET_INFO: flags 0x%x (%s), %u regions, %u irqs\n",
		       info.flags, info.flags & VFIO_DEVICE_FLAGS_PCI ?
		       "PCI" : "not PCI", info.num_regions, info.num_irqs);

	printf("PCI config space:\n");
	for (i = 0; i < 0x40; i += 16)
		printf("  %02x: %08x %08x %08x %08x\n", i,
		       cfg_read32(vd.device, i), cfg_read32(vd.device, i + 4),
		       cfg_read32(vd.device, i + 8),
		       cfg_read32(vd.device, i + 12));
	printf("  vendor:device = %04x:%04x, class %06x\n",
	       cfg_read16(vd.device, PCI_VENDOR_ID),
	       cfg_read16(vd.device, PCI_DEVICE_ID),
	       cfg_read32(vd.device, PCI_CLASS_REVISION) >> 8);

	printf("UART on BAR0: writing \"%s\" to THR, reading RBR back\n", msg);
	bar_write8(vd.device, 0, UART_FCR, UART_FCR_ENABLE_FIFO |
		   UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	for (i = 0; msg[i] && n < sizeof(echo) - 1; i++) {
		bar_write8(vd.device, 0, UART_TX, msg[i]);
		while (n < sizeof(echo) - 1 &&
		       bar_read8(vd.device, 0, UART_LSR) & UART_LSR_DR)
			echo[n++] = bar_read8(vd.device, 0, UART_RX);
	}
	echo[n] = '\0';
	printf("  echoed: \"%s\" (%s)\n", echo,
	       strcmp(echo, msg) ? "MISMATCH" : "round-trip ok");
	vfio_close_mdev(&vd);
	return strcmp(echo, msg) ? 1 : 0;
}
