"""The virtual machine's live edge: a board's host protocols over UDP on
the loopback interface, so that ``backends/board.py`` and the toolchain's
``LiveEventConnection`` run unchanged against the virtual machine.

What a board does at its edge, and what this does in its place:

- SC&MP listens on port 17893 of each Ethernet chip's address (a virtual
  machine's are 127.0.x.y, on the loopback).  An SDP message for a core's
  port 1 is an EIEIO message for a reverse-IP-tag source there; an SCP
  ``CMD_IPTAG`` set points an IP tag at the sender (how a
  ``LiveEventConnection`` makes the gatherer's output come to it) and is
  answered OK.
- A reverse IP tag's port takes EIEIO messages for its core directly.
- The live packet gatherer sends what it gathers to its IP tag's host and
  port as EIEIO key-payload messages (at most 31 pairs, as its 256-byte
  SDP buffer holds).

Each batch of messages that arrive together is injected into the machine,
which runs until quiet, a slice of events at a time: what reached the
gatherers goes out after each slice, and messages that came meanwhile go
in, as on a board that runs while the host talks to it (the feeder trains
a whole run from one message).
Messages can be dropped on purpose, by kind and number
(:py:class:`spiDNN.LiveIO`), to test how the host recovers.
"""
import collections
import logging
import select
import socket
import struct

import numpy
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utility_models import (
    LivePacketGather, LivePacketGatherMachineVertex,
    ReverseIPTagMulticastSourceMachineVertex)
from spinnman.constants import SCP_SCAMP_PORT
from spinnman.messages.eieio import EIEIOType, read_eieio_data_message
from spinnman.messages.eieio.data_messages import EIEIODataMessage

from spiDNN.errors import SpiDNNMachineError
from spiDNN.abi.partitions import FORWARD, LOSS, WEIGHTS
from spiDNN.vm import binding

logger = logging.getLogger(__name__)

#: Key-payload pairs per message out of the gatherer.
PAIRS_PER_MESSAGE = 31
#: Seconds the edge waits for a message before it looks for a stop.
POLL_SECONDS = 0.02
#: Events the machine runs between looks at the sockets.
SLICE = 1 << 18
#: What the gatherer forwards, by the partition it came on.
_KINDS = {FORWARD: "output", LOSS: "loss", WEIGHTS: "weight"}
#: SCP: the IP tag command, its "set" sub-command, the OK result.
_CMD_IPTAG, _IPTAG_SET, _RC_OK = 26, 1, 0x80
_SDP_HEADER = struct.Struct("<2x8B")
_SCP_HEADER = struct.Struct("<HHI")


class LiveEdge:
    """The sockets of a live run, open from construction to ``close``.

    :param vm: the started :py:class:`~spiDNN.vm.machine.VirtualMachine`
    :param core_of: {machine vertex: core index}
    :param settings: the run's :py:class:`spiDNN.LiveIO`
    """

    def __init__(self, vm, core_of, settings):
        self.vm = vm
        self.settings = settings
        #: Messages that crossed the wire and that were dropped, by kind.
        self.sent = collections.Counter()
        self.dropped = collections.Counter()
        self.failure = None
        tags = FecDataView.get_tags()
        self._sockets = {}           # socket: core index for a tag, or None
        self._core_at = {}           # (x, y, p): source core index
        self._kind_of_core = {}      # source core index: its label
        self._gatherer_tags = []     # [IPTag] of the gatherers
        try:
            for vertex, core in core_of.items():
                if isinstance(vertex, ReverseIPTagMulticastSourceMachineVertex):
                    self._core_at[vm.core_locations[core]] = core
                    self._kind_of_core[core] = vertex.app_vertex.label
                    for tag in tags.get_reverse_ip_tags_for_vertex(vertex) or ():
                        self._bind(tag.board_address, tag.port, core)
                elif isinstance(vertex, LivePacketGatherMachineVertex):
                    self._gatherer_tags += list(
                        tags.get_ip_tags_for_vertex(vertex) or ())
            # SC&MP of every board; the gatherers send from the last one
            # (a host's listener takes messages from any address).
            for chip in FecDataView.get_machine().ethernet_connected_chips:
                self._scamp = self._bind(chip.ip_address, SCP_SCAMP_PORT, None)
            #: Where each IP tag sends: (host, port), until a host asks for
            #: its traffic with an SCP IP tag set.
            self._destinations = {
                tag.tag: (_host(tag.ip_address), tag.port)
                for tag in self._gatherer_tags}
            self._kinds = _gathered_kinds()
            #: The machine has work left from its last slice.
            self._running = False
        except BaseException:
            self.close()
            raise

    def _bind(self, address, port, core):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError as error:
            sock.close()
            raise SpiDNNMachineError(
                f"the virtual machine's live I/O cannot listen on "
                f"{address}:{port} ({error.strerror}); is another live run "
                f"using it?") from None
        sock.setblocking(False)
        self._sockets[sock] = core
        return sock

    def serve(self, stop_requested):
        """Carries messages in and out until ``stop_requested()``."""
        while not stop_requested() and self.failure is None:
            ready, _, _ = select.select(
                list(self._sockets), [], [],
                0.0 if self._running else POLL_SECONDS)
            cores, keys, payloads = [], [], []
            for sock in ready:
                for data, sender in _drain(sock):
                    self._take(sock, data, sender, cores, keys, payloads)
            if keys or self._running:
                self._run(cores, keys, payloads)

    def _take(self, sock, data, sender, cores, keys, payloads):
        core = self._sockets[sock]
        if core is None:
            _, _, port_cpu, _, y, x, _, _ = _SDP_HEADER.unpack_from(data)
            if port_cpu >> 5 == 0:
                self._scp(sock, data, sender, x, y)
                return
            core = self._core_at.get((x, y, port_cpu & 0x1F))
            if core is None:
                logger.warning("an SDP message for (%d, %d, %d), which runs "
                               "no live source, was ignored", x, y,
                               port_cpu & 0x1F)
                return
            data = data[_SDP_HEADER.size:]
        kind = self._kind_of_core[core]
        if self._dropping(kind):
            return
        message = read_eieio_data_message(data, 0)
        while message.is_next_element:
            element = message.next_element
            cores.append(core)
            keys.append(element.key)
            payloads.append(getattr(element, "payload", 0) or 0)

    def _scp(self, sock, data, sender, x, y):
        """An SCP request to SC&MP of chip (x, y): only setting an IP tag
        is served."""
        command, sequence, argument_1 = _SCP_HEADER.unpack_from(
            data, _SDP_HEADER.size)
        if command != _CMD_IPTAG or (argument_1 >> 16) & 0xF != _IPTAG_SET:
            logger.warning("SCP command %d is not served by the virtual "
                           "machine", command)
            return
        tag = argument_1 & 0xFF
        if argument_1 >> 30 & 1:
            self._destinations[tag] = sender
        # The reply: flags 7, tag and destination 0xFF, from the chip.
        reply = (b"\0\0" + bytes([0x07, 0xFF, 0xFF, 0x00, 0, 0, y, x])
                 + _SCP_HEADER.pack(_RC_OK, sequence, 0))
        sock.sendto(reply, sender)

    def _dropping(self, kind):
        number = self.sent[kind] + self.dropped[kind]
        if number in self.settings.drop.get(kind, ()):
            self.dropped[kind] += 1
            return True
        self.sent[kind] += 1
        return False

    def _run(self, cores, keys, payloads):
        rc, message = self.vm.inject(cores, keys, payloads, SLICE)
        self._running = rc == binding.VM_RUNNING
        if rc not in (binding.VM_OK, binding.VM_RUNNING):
            self.failure = message
            return
        out_keys, out_payloads = self.vm.outputs()
        if len(out_keys):
            self._send(out_keys, out_payloads)

    def _send(self, keys, payloads):
        """The gathered packets, a message per kind and 31 pairs, to
        where the gatherer's tag points."""
        if not self._gatherer_tags:
            return
        destination = self._destinations[self._gatherer_tags[0].tag]
        kinds = numpy.full(len(keys), "output", dtype=object)
        for key, mask, kind in self._kinds:
            kinds[(keys & mask) == key] = kind
        for kind in dict.fromkeys(kinds):
            mine = kinds == kind
            k, p = keys[mine], payloads[mine]
            for start in range(0, len(k), PAIRS_PER_MESSAGE):
                if self._dropping(kind):
                    continue
                message = EIEIODataMessage.create(
                    EIEIOType.KEY_PAYLOAD_32_BIT)
                for key, payload in zip(
                        k[start:start + PAIRS_PER_MESSAGE].tolist(),
                        p[start:start + PAIRS_PER_MESSAGE].tolist()):
                    message.add_key_and_payload(key, payload)
                self._scamp.sendto(message.bytestring, destination)

    def close(self):
        for sock in self._sockets:
            sock.close()
        self._sockets = {}


def _drain(sock):
    """Every datagram waiting on a non-blocking socket."""
    while True:
        try:
            yield sock.recvfrom(65536)
        except BlockingIOError:
            return


def _host(address):
    """An IP tag's host as an address to send to."""
    return "127.0.0.1" if address in (None, "", "localhost") else (
        socket.gethostbyname(address))


def _gathered_kinds():
    """(key, mask, kind) of every partition the gatherers receive."""
    routing_infos = FecDataView.get_routing_infos()
    kinds = []
    for partition in FecDataView.iterate_partitions():
        if not any(isinstance(edge.post_vertex, LivePacketGather)
                   for edge in partition.edges):
            continue
        for machine_vertex in partition.pre_vertex.machine_vertices:
            info = routing_infos.get_info_from(
                machine_vertex, partition.identifier)
            kinds.append((info.key, info.mask, _KINDS.get(
                partition.identifier, partition.identifier)))
    return kinds
