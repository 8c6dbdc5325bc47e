"""A minimal notification server for tests: owns `org.freedesktop.Notifications` on the
session bus, as a desktop's notification daemon does, says it renders body markup, and
appends each `Notify` call to LOG as one JSON line (app_name, summary, body, actions).

Runs on Debian's python3 with python3-dbus and python3-gi (apt-get install python3-dbus
python3-gi). Prints "ready" on stdout once it owns the name.

Usage: /usr/bin/python3 notify_server.py LOG
"""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"

DBusGMainLoop(set_as_default=True)


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        self.log = log
        self.next_id = 0
        self._bus_name = dbus.service.BusName(NAME, bus, do_not_queue=True)
        super().__init__(bus, PATH)

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "body-markup", "body-hyperlinks", "actions"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("mll-test-notifications", "mlflow-login", "1", "1.2")

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        self.next_id += 1
        call = {"app_name": str(app_name), "summary": str(summary), "body": str(body), "actions": [str(a) for a in actions]}
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(call) + "\n")
        return dbus.UInt32(self.next_id)

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, notification_id):
        self.NotificationClosed(notification_id, 3)

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, notification_id, reason):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: notify_server.py LOG")
    server = Server(dbus.SessionBus(), sys.argv[1])
    print("ready", flush=True)
    GLib.MainLoop().run()
    del server


if __name__ == "__main__":
    main()
