"""A tiny authoritative DNS server for tests: answers TXT queries over UDP from a dict, with the
Python standard library only. Names it does not hold get NXDOMAIN; other types an empty answer.

    with DnsServer({"_dmarc.shop.example": ["v=DMARC1; p=none"]}) as dns:
        ... dns.address ...  # "127.0.0.1:PORT"
        dns.zone["s1._domainkey.shop.example"] = ["v=DKIM1; ..."]   # changes apply at once
"""
import socket
import struct
import threading

TXT = 16
IN = 1


def _read_name(packet, offset):
    labels = []
    while True:
        n = packet[offset]
        if n == 0:
            return ".".join(labels), offset + 1
        if n & 0xC0:
            raise ValueError("compressed names are not expected in a question")
        labels.append(packet[offset + 1:offset + 1 + n].decode("ascii"))
        offset += 1 + n


def _txt_rdata(text):
    data = text.encode()
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in chunks)


def answer(packet, zone):
    """The response to one query packet (bytes), or None for a packet that is not a query."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    name, offset = _read_name(packet, 12)
    qtype, qclass = struct.unpack("!HH", packet[offset:offset + 4])
    question = packet[12:offset + 4]
    key = name.lower().rstrip(".")
    records = zone.get(key)
    rd = flags & 0x0100
    rcode = 3 if records is None else 0  # NXDOMAIN
    answers = []
    if records is not None and qtype == TXT and qclass == IN:
        for text in records:
            rdata = _txt_rdata(text)
            answers.append(struct.pack("!HHHIH", 0xC00C, TXT, IN, 60, len(rdata)) + rdata)
    header = struct.pack("!HHHHHH", ident, 0x8000 | 0x0400 | rd | 0x0080 | rcode, 1, len(answers), 0, 0)
    return header + question + b"".join(answers)


class DnsServer:
    def __init__(self, zone=None):
        self.zone = {k.lower().rstrip("."): v for k, v in (zone or {}).items()}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop.is_set():
            try:
                packet, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                reply = answer(packet, self.zone)
                if reply is not None:
                    self.queries.append(_read_name(packet, 12)[0])
                    self.sock.sendto(reply, peer)
            except (ValueError, IndexError, struct.error):
                continue

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sock.close()
