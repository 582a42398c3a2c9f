#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
# swtpm log (level >= 20) -> one line per TPM command:
#   workload-id phase command-code response-code handle
# The benchmark's markers (TPM2_GetRandom of 0xB000 | id << 2 | phase bytes)
# set the workload and phase of the commands after them and are left out.
# Commands before the first marker get id 0.  handle: the savedHandle of a
# ContextLoad, the handle of a ContextSave or FlushContext, the size asked of
# a GetRandom, else "-".

function hex(s,    i, v) {
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
	return v
}

function byte(s, off) { return substr(s, off * 2 + 1, 2) }
function word(s, off) { return substr(s, off * 2 + 1, 8) }

function emit(    cc, n, h) {
	if (cmd == "")
		return
	cc = word(cmd, 6)
	if (cc == "0000017B" && length(cmd) == 24) {
		n = hex(substr(cmd, 21, 4))
		if (int(n / 4096) == 11) {
			id = int((n % 4096) / 4)
			phase = n % 4
			cmd = rsp = ""
			return
		}
	}
	h = "-"
	if (cc == "00000161")
		h = word(cmd, 18)
	else if (cc == "00000162" || cc == "00000165")
		h = word(cmd, 10)
	else if (cc == "0000017B")
		h = substr(cmd, 21, 4)
	print id, phase, cc, (rsp == "" ? "-" : word(rsp, 6)), h
	cmd = rsp = ""
}

BEGIN { id = 0; phase = 0; mode = "" }
/SWTPM_IO_Read:/ { emit(); mode = "cmd"; next }
/SWTPM_IO_Write:/ { mode = "rsp"; next }
/^ *([0-9A-F][0-9A-F] )*[0-9A-F][0-9A-F] *$/ {
	if (mode == "cmd")
		for (i = 1; i <= NF; i++) cmd = cmd $i
	else if (mode == "rsp")
		for (i = 1; i <= NF; i++) rsp = rsp $i
	next
}
{ mode = "" }
END { emit() }
