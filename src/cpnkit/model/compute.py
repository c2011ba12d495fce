"""Compute resources: devices and the sites that host them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cpnkit.errors import ConfigError

__all__ = ["DEVICE_CLASSES", "Device", "DeviceClass", "Site"]

DeviceClass = Literal["gpu", "cpu", "fpga", "asic", "mobile", "embedded"]
DEVICE_CLASSES: tuple[DeviceClass, ...] = ("gpu", "cpu", "fpga", "asic", "mobile", "embedded")


@dataclass(frozen=True, slots=True)
class Device:
    """One inference device at a site; it serves one task at a time, FIFO.

    Attributes:
        id: Unique device id, by convention ``"<site>/<model>"`` (``"ATLAM5/1080ti_1"``).
        model: Device model, a column of the device latency table (``"1080ti_1"``, ``"raspi4"``).
        device_class: ``gpu``, ``cpu``, ``fpga``, ``asic``, ``mobile`` or ``embedded``.
        site: Node id of the hosting site.
    """

    id: str
    model: str
    device_class: DeviceClass
    site: str

    def __post_init__(self) -> None:
        if not self.id or not self.model or not self.site:
            raise ConfigError(f"device {self!r} needs a non-empty id, model and site")
        if self.device_class not in DEVICE_CLASSES:
            raise ConfigError(
                f"device {self.id!r}: device_class={self.device_class!r} is not one of {DEVICE_CLASSES}; "
                "pick the closest class"
            )


@dataclass(frozen=True, slots=True)
class Site:
    """A compute site: a network node with one or more devices.

    Attributes:
        node: Node id where the site attaches to the network.
        devices: Devices hosted there (at least one).
        region: Grid region for energy/carbon (filled by a later layer; ``""`` when unknown).
    """

    node: str
    devices: tuple[Device, ...]
    region: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", tuple(self.devices))
        if not self.devices:
            raise ConfigError(f"site {self.node!r} has no devices; a site needs at least one device")
        seen: set[str] = set()
        for device in self.devices:
            if device.site != self.node:
                raise ConfigError(
                    f"device {device.id!r} says it is at site {device.site!r} but is listed under {self.node!r}; "
                    "make them agree"
                )
            if device.id in seen:
                raise ConfigError(f"site {self.node!r}: device id {device.id!r} appears twice; ids must be unique")
            seen.add(device.id)
