"""A minimal StatusNotifier host for tests and the benchmark.

Owns `org.kde.StatusNotifierWatcher` on the session bus (as a desktop panel does), so
libayatana-appindicator registers the tray icon with it, and reads the icon's menu through
`com.canonical.dbusmenu` like a panel would: layout, labels, toggle states, clicks.

Runs on Debian's python3 with python3-dbus and python3-gi (apt-get install python3-dbus
python3-gi); the tests call /usr/bin/python3 so a pyenv python does not shadow them.
"""

import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER_IFACE = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"

DBusGMainLoop(set_as_default=True)


class Watcher(dbus.service.Object):
    """org.kde.StatusNotifierWatcher: records every registered item with its time."""

    def __init__(self, bus):
        self.bus = bus
        self.items = []  # (monotonic time, bus name, object path)
        self._bus_name = dbus.service.BusName(WATCHER_NAME, bus, do_not_queue=True)
        # Not `self._name`: dbus.service.Object uses that attribute itself.
        super().__init__(bus, "/StatusNotifierWatcher")

    @dbus.service.method(WATCHER_IFACE, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # appindicator passes its object path; others pass a bus name.
        if service.startswith("/"):
            name, path = sender, service
        else:
            name, path = service, "/StatusNotifierItem"
        self.items.append((time.monotonic(), name, path))
        self.StatusNotifierItemRegistered(f"{name}{path}")

    @dbus.service.method(WATCHER_IFACE, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER_IFACE, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array([f"{n}{p}" for _, n, p in self.items], signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


def pump(seconds):
    """Serves D-Bus for about `seconds`."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not ctx.iteration(False):
            time.sleep(0.005)


def wait_for(predicate, timeout, what):
    """Serves D-Bus until `predicate()` is truthy; returns its value or raises."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if not ctx.iteration(False):
            time.sleep(0.01)


class Menu:
    """The dbusmenu of a registered item."""

    def __init__(self, bus, name, item_path):
        item = bus.get_object(name, item_path)
        props = dbus.Interface(item, dbus.PROPERTIES_IFACE)
        self.menu_path = str(props.Get(ITEM_IFACE, "Menu"))
        self.item_props = props
        self.proxy = dbus.Interface(bus.get_object(name, self.menu_path), MENU_IFACE)

    def items(self):
        """Flat list of dicts: id, label, enabled, toggle_type, toggle_state, type."""
        _revision, root = self.proxy.GetLayout(0, -1, dbus.Array([], signature="s"))
        out = []

        def walk(node):
            node_id, props, children = node
            if node_id != 0:
                out.append(
                    {
                        "id": int(node_id),
                        "label": str(props.get("label", "")).replace("_", ""),
                        "enabled": bool(props.get("enabled", True)),
                        "visible": bool(props.get("visible", True)),
                        "type": str(props.get("type", "standard")),
                        "toggle_type": str(props.get("toggle-type", "")),
                        "toggle_state": int(props.get("toggle-state", -1)),
                    }
                )
            for child in children:
                walk(child)

        walk(root)
        return [i for i in out if i["visible"]]

    def find(self, label):
        for item in self.items():
            if item["label"] == label:
                return item
        return None

    def click(self, label):
        # The tray rebuilds its menu when its state changes, with new item ids: an id read
        # just before a rebuild is gone by the click. Read the layout again and click once
        # more (a few times at most); a label that is missing fails at once.
        for attempt in range(3):
            item = self.find(label)
            if item is None:
                raise AssertionError(f"no menu item {label!r} in {[i['label'] for i in self.items()]}")
            try:
                self.proxy.Event(item["id"], "clicked", dbus.Int32(0, variant_level=1), dbus.UInt32(int(time.time())))
                return item
            except dbus.exceptions.DBusException as e:
                if "does not refer to a menu item" not in str(e) or attempt == 2:
                    raise
                time.sleep(0.2)
