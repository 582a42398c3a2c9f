# SPDX-License-Identifier: GPL-2.0
# The benchmark's report, run as
#   awk -f belady.awk -f report.awk -v csv=F -v dat=F \
#       rm.results rm.trace base.results base.trace
# FLAVOUR.results: the guest's "W key=value ..." lines; FLAVOUR.trace: the
# lines of trace.awk.  Only the loop phase (phase 1) of each workload counts.
# A row with path=P (abrmd: tpm2-abrmd on /dev/tpm0 of that boot; raw: the
# raw device /dev/tpm0 itself) is the workload id % 100 of "kernel" P, and
# so are the trace's lines of its id.
# Prints one markdown table, then the goals and the check of the RM's
# counters against swtpm's count; writes one CSV row per workload and kernel
# to csv and the plot's data to dat.

# A workload that met a limit by design says which, in words; anything
# else stays a raw failure.
function limit_words(e, f,   rc) {
	rc = e; sub(/.*_rc_/, "", rc)
	if (e !~ /_rc_/)
		return "fail: " e
	if (rc == "0x902")
		return "limit: the TPM's loaded-object slots (TPM_RC_OBJECT_MEMORY, " e ")"
	if (rc == "0x903")
		return "limit: the TPM's loaded-session slots (TPM_RC_SESSION_MEMORY, " e ")"
	if (rc == "0xb0902")
		return "limit: the RM's per-user object quota (" e ")"
	if (rc == "0xb0903")
		return "limit: the RM's per-user session quota (" e ")"
	if (e ~ /^open_[0-9]+_tss_rc_/ && f == "raw")
		return "limit: /dev/tpm0 admits one opener: open " (substr(e, 6) + 1) \
		       " refused by Tss2_TctiLdr_Initialize (" e \
		       (rc == "0xa000a" ? ", TSS2_TCTI_RC_IO_ERROR: EBUSY" : "") ")"
	if (e ~ /^open_[0-9]+_tss_rc_/)
		return "limit: connection " (substr(e, 6) + 1) " refused by Tss2_TctiLdr_Initialize (" e \
		       (rc == "0xa0008" ? ", TSS2_TCTI_RC_NO_CONNECTION" : "") ")"
	return "fail: " e
}

# A resource manager's refusal code in words (TSS2_RESMGR_TPM_RC_LAYER,
# 0xb0000, the layer abrmd and our RM both answer in).
function limit_rc(rc) {
	if (rc == "0xb0902") return " (RM layer, TPM_RC_OBJECT_MEMORY)"
	if (rc == "0xb0903") return " (RM layer, TPM_RC_SESSION_MEMORY)"
	if (rc == "0x902") return " (TPM_RC_OBJECT_MEMORY)"
	if (rc == "0x903") return " (TPM_RC_SESSION_MEMORY)"
	return ""
}

# Modeled time (ms) of one command: /work/shared/tpm-latency-model.md, a
# model, not a measurement.  Create is costed as ECC keygen (CreatePrimary).
function cost(cc, bus) {
	if (cc == "00000165") return bus == "spi" ? 2 : 10	# FlushContext
	if (cc == "00000162") return bus == "spi" ? 10 : 40	# ContextSave
	if (cc == "00000161") return bus == "spi" ? 10 : 40	# ContextLoad
	if (cc == "00000157") return bus == "spi" ? 15 : 50	# Load
	if (cc == "00000176") return bus == "spi" ? 15 : 50	# StartAuthSession
	if (cc == "0000015D") return bus == "spi" ? 60 : 70	# Sign, ECC P-256
	if (cc == "00000131" || cc == "00000153")
		return bus == "spi" ? 200 : 300			# ECC keygen
	return bus == "spi" ? 3 : 12				# small commands
}

function flavour(file,    f) {
	f = file
	sub(/.*\//, "", f)
	sub(/\..*/, "", f)
	return f
}

function ratio(a, b) { return b > 0 ? a / b : "" }
function fmt(x, p) { return x == "" ? "-" : sprintf("%." p "f", x) }

FILENAME ~ /\.results$/ && $1 == "W" {
	f = flavour(FILENAME)
	delete kv
	for (i = 2; i <= NF; i++) {
		eq = index($i, "=")
		kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
	if (kv["path"] != "") {
		pathof[f SUBSEP kv["id"]] = kv["path"]
		pathon[kv["path"]] = f
		kv["id"] %= 100
		f = kv["path"]
	}
	key = f SUBSEP kv["id"]
	for (k in kv)
		res[key, k] = kv[k]
	# kmix: its kernel operations run in the loop phase of workload kid
	if ("kid" in kv)
		kmixk[f SUBSEP kv["kid"]] = kv["id"]
	if (kv["name"] ~ /^kmix-/) {
		nkmix += !(kv["id"] in kmixid)
		kmixid[kv["id"]] = 1
	}
	if (!(kv["id"] in seen)) {
		seen[kv["id"]] = 1
		order[++nw] = kv["id"]
	}
	flv[f] = 1
	next
}
FILENAME ~ /\.results$/ && $1 == "I" { infof[++ninfo] = flavour(FILENAME); infol[ninfo] = $0; next }
# What abrmd logged during the run, "A count line" (guest.sh).
FILENAME ~ /\.results$/ && $1 == "A" { alog[++nalog] = $0; next }
# What a client on a path (abrmd) printed: "C workload count line".
FILENAME ~ /\.results$/ && $1 == "C" { clog[++nclog] = $0; next }

# The trace's flavour of this line (tfl), its path's for a path's workload.
FILENAME ~ /\.trace$/ {
	tfl = flavour(FILENAME)
	if ((tfl SUBSEP $1) in pathof) {
		tfl = pathof[tfl SUBSEP $1]
		$1 %= 100
	}
}

# kmix: the commands in the loop phase of its kernel workload (kid) are the
# kernel operations'; in its client workload a GetRandom is the kernel's
# hwrng thread (the client sends none): left out, and said.
FILENAME ~ /\.trace$/ && $2 == 1 && (tfl SUBSEP $1) in kmixk {
	f = tfl
	key = f SUBSEP kmixk[f SUBSEP $1]
	ktpm[key]++
	kbycc[key, $3]++
	kccs[$3] = 1
	if ($4 != "00000000" && $4 != "-")
		kerr[key, $3 ":" $4]++
	next
}
FILENAME ~ /\.trace$/ && $2 == 1 && $3 == "0000017B" && (tfl, $1, "kid") in res {
	khwrng[tfl SUBSEP $1]++
	next
}

# The kernel's hwrng thread (6.1 runs it even at quality 0) reads 64 bytes
# from the TPM on every reseed: not the client's, not the RM's; left out.
FILENAME ~ /\.trace$/ && $2 == 1 && $3 == "0000017B" && $5 == "0040" {
	hwrng[tfl SUBSEP $1]++
	next
}

# The TSS device TCTI (tpm2-tss 3.2) sends a GetRandom(8) from
# Tss2_TctiLdr_Initialize("device:...") to probe the device: the client
# library's, not the workload's nor the RM's; left out, and said.
FILENAME ~ /\.trace$/ && $2 == 1 && $3 == "0000017B" && $5 == "0008" {
	probe[tfl SUBSEP $1]++
	next
}

# TPM errors during setup, shown for workloads that failed.
FILENAME ~ /\.trace$/ && $1 > 0 && $2 == 0 && $4 != "00000000" && $4 != "-" {
	serr[tfl, $1, $3 ":" $4]++
}

FILENAME ~ /\.trace$/ && $2 == 1 {
	f = tfl
	key = f SUBSEP $1
	tpm[key]++
	bycc[key, $3]++
	ccs[$3] = 1
	spi[key] += cost($3, "spi")
	i2c[key] += cost($3, "i2c")
	if ($4 != "00000000" && $4 != "-")
		err[key, $3 ":" $4]++
	if ($3 == "00000161")
		loads[key, substr($5, 1, 2) == "80" ? "obj" : "sess"]++
	next
}

# Client commands of the tools workflow: the same workflow on /dev/tpm0,
# the raw path's tools row (id 4 of path raw), or tools-raw (id 5) of the
# kernel a path ran on in results without the raw path.
function tools_raw(f) {
	# (find() leaves empty entries of the names it looked up)
	if (("raw" SUBSEP 4 SUBSEP "name") in res && res["raw", 4, "name"] != "")
		return "raw" SUBSEP 4
	return (f in pathon ? pathon[f] : f) SUBSEP 5
}

function client_cmds(f, id) {
	if (res[f, id, "name"] ~ /^tools/)
		return tpm[tools_raw(f)] + 0
	return res[f, id, "cmds"]
}

# The client's own ContextLoad (cl), ContextSave (cs), FlushContext (fc).
function client_cc(f, id, what,    cc) {
	if (res[f, id, "name"] !~ /^tools/)
		return res[f, id, what] + 0
	cc = what == "cl" ? "00000161" : what == "cs" ? "00000162" : "00000165"
	return bycc[tools_raw(f), cc] + 0
}

# Limits met in the set-up (clients-k's opens): one line per path and
# limit, naming its workloads and how many clients each had refused.
function setup_limit(f, name, words, refused,    y) {
	y = f SUBSEP words
	if (!(y in slim)) {
		slim[y] = ++nslim
		limits[++nlim] = y
	}
	slimw[y] = slimw[y] (slimw[y] == "" ? "" : ", ") name " (" refused " refused)"
}

function row(f, id,    key, name, ops, c, t, opt, k, extra) {
	key = f SUBSEP id
	name = res[key, "name"]
	ops = res[key, "ops"]
	c = client_cmds(f, id)
	t = tpm[key] + 0
	opt = ""
	if (name ~ /^clients-[0-9]+-lock$/ && res[key, "status"] == "ok") {
		split(name, p, "-")
		k = p[2]
		opt = belady_loads(k, int(res[key, "per"]), 3)
	}
	if (name == "mixed-1" && res[key, "status"] == "ok")
		opt = belady_pool(3, ops, 3)	# 3 keys in rotation, 1 session
	T[key] = t
	C[key] = c
	SPI[key] = ratio(spi[key], ops)
	MED[key] = res[key, "med_us"] / 1000
	OPT[key] = opt
	CL[key] = bycc[key, "00000161"] + 0
	# A limit met in the loop (idle) leaves a row of what ran before it;
	# one met in the set-up (clients-k's opens) leaves none: words only.
	if (res[key, "status"] == "limit" && res[key, "opened"] == "")
		limits[++nlim] = sprintf("%s on %s: %s after %d open files; the row counts those", name, f,
					 limit_words(res[key, "error"], f), ops)
	if (res[key, "status"] == "limit" && res[key, "opened"] != "")
		setup_limit(f, name, sprintf("%s after %d open files", limit_words(res[key, "error"], f),
					     res[key, "opened"]), res[key, "refused"])
	if (res[key, "status"] != "ok" && (res[key, "status"] != "limit" || res[key, "opened"] != "")) {
		printf "| %s | %s | %s |  |  |  |  |  |  |  |  |  |\n",
		       name, f, res[key, "status"] == "skip" ? "skipped: " res[key, "error"] : limit_words(res[key, "error"], f)
		printf "%s,%s,fail,,,,,,,,,,,,\n", name, f > csv
		return
	}
	extra = c > 0 ? (t - c) / c : ""
	printf "| %s | %s | %d | %d | %d | %s | %s | %d/%d/%d | %s | %s | %s | %s | %s |\n",
	       name (res[key, "status"] == "limit" ? " (limit, below)" : ""), f, ops, c, t, fmt(ratio(t, c), 3), fmt(extra, 3),
	       CL[key], bycc[key, "00000162"], bycc[key, "00000165"],
	       fmt(MED[key], 2), fmt(res[key, "p95_us"] / 1000, 2),
	       fmt(SPI[key], 1), fmt(ratio(i2c[key], ops), 1),
	       opt == "" ? "-" : CL[key] " / " opt
	printf "%s,%s,%s,%d,%d,%d,%s,%s,%d,%d,%d,%s,%s,%s,%s,%s\n",
	       name, f, res[key, "status"], ops, c, t, ratio(t, c), extra, CL[key],
	       bycc[key, "00000162"], bycc[key, "00000165"], MED[key],
	       res[key, "p95_us"] / 1000, SPI[key], ratio(i2c[key], ops),
	       opt > csv
}

# TPM command names for the kernel-side breakdown.
function ccname(cc) {
	if (cc == "00000161") return "ContextLoad"
	if (cc == "00000162") return "ContextSave"
	if (cc == "00000165") return "FlushContext"
	if (cc == "00000176") return "StartAuthSession"
	if (cc == "00000182") return "PCR_Extend"
	if (cc == "0000017B") return "GetRandom"
	if (cc == "00000131") return "CreatePrimary"
	if (cc == "0000015D") return "Sign"
	return "cc " cc
}

# One row of the kernel-mix table: client side, then kernel side.
function kmix_row(f, id,    key, kops, c, t, kt, by, cc) {
	KT[f, id] = KC[f, id] = ""
	key = f SUBSEP id
	if (res[key, "name"] == "")
		return	# no such run (an empty entry another lookup made)
	if (res[key, "status"] != "ok") {
		printf "| %s | %s | %s |  |  |  |  |  |  |  |  |  |  |\n", res[key, "name"], f,
		       res[key, "status"] == "skip" ? "skipped: " res[key, "error"] : "fail: " res[key, "error"]
		return
	}
	kops = res[key, "kops"] + 0
	c = res[key, "cmds"] + 0
	t = tpm[key] + 0
	kt = ktpm[key] + 0
	KT[key] = kt
	KC[key] = ratio(t, c)
	by = ""
	for (cc in kccs)
		if (kbycc[key, cc])
			by = by (by == "" ? "" : ", ") ccname(cc) " " kbycc[key, cc]
	printf "| %s | %s | %d | %d | %s | %d | %d | %s | %s | %s | %s | %s | %s |\n",
	       res[key, "name"], f, c, t, fmt(ratio(t, c), 3), kops, kt,
	       fmt(ratio(kt, kops), 2), by == "" ? "-" : by,
	       fmt(res[key, "med_us"] / 1000, 2), fmt(res[key, "p95_us"] / 1000, 2),
	       fmt(res[key, "kmed_us"] / 1000, 2), fmt(res[key, "kp95_us"] / 1000, 2)
	printf "%s,%s,kernel,%d,,%d,%s,,%d,%d,%d,%s,%s,,,\n", res[key, "name"], f,
	       kops, kt, ratio(kt, kops), kbycc[key, "00000161"], kbycc[key, "00000162"],
	       kbycc[key, "00000165"], res[key, "kmed_us"] / 1000,
	       res[key, "kp95_us"] / 1000 > csv
}

# The kernel-mix workloads (hmac kernels): their table and goals.
function kmix_report(    i, j, id, r, b, x, y, nm, ok, every) {
	for (i = 1; i <= nw; i++)
		if (order[i] in kmixid)
			for (j = 1; j <= nf; j++)
				if (res[fls[j], order[i], "every"] != "")
					every = res[fls[j], order[i], "every"]
	if (!nkmix)
		return
	print ""
	printf "Kernel mix: a sign loop (key and HMAC session on /dev/tpmrm0) with one kernel operation after every %s client commands; kernel-side TPM commands are those between the markers around each kernel operation, counted by swtpm.\n", every == "" ? "-" : every
	print ""
	print "| workload | kernel | client cmds | client TPM cmds | TPM/client | kernel ops | kernel-side TPM cmds | TPM/kernel op | kernel-side commands | client median ms | client p95 ms | kernel op median ms | kernel op p95 ms |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
	for (i = 1; i <= nw; i++)
		if (order[i] in kmixid)
			for (j = 1; j <= nf; j++)
				if ((fls[j], order[i], "name") in res)
					kmix_row(fls[j], order[i])
	print ""
	print "Kernel op time: the operation (a read of a new IMA-measured file, or of /dev/hwrng) and the closing marker, a user command in front of which upstream ends the kernel's HMAC session."
	print ""
	for (i = 1; i <= nw; i++) {
		id = order[i]
		if (!(id in kmixid))
			continue
		r = "rm-hmac" SUBSEP id
		b = "base-hmac" SUBSEP id
		nm = res[r, "name"] != "" ? res[r, "name"] : res[b, "name"]
		ok = res[r, "status"] == "ok" && res[b, "status"] == "ok"
		x = ok ? ratio(KT[b], KT[r]) : ""
		y = res[r, "status"] == "ok" ? KC[r] : ""
		goal(x == "" || y == "" ? "" : x >= 3 && y <= 1.05,
		     sprintf("%s (hmac kernels): kernel-side TPM commands base/ours %s/%s = %s (>= 3); ours %s TPM commands per client command (<= 1.05)",
			     nm, ok ? KT[b] : "-", ok ? KT[r] : "-", fmt(x, 2), fmt(y, 3)))
	}
}

# The abrmd and raw rows: goals against ours, memory, limits and what
# abrmd and the paths' clients said.
function abrmd_report(    r, a, x, y, i, k, lk, ln, p) {
	if (!("abrmd" in flv) && !("raw" in flv))
		return
	print ""
	r = find("rm", "sign-1"); a = find("abrmd", "sign-1")
	if (r != "" && res[r, "status"] != "ok") r = ""
	if (a != "" && res[a, "status"] != "ok") a = ""
	x = (r == "" || a == "") ? "" : ratio(T[a], T[r])
	goal(x == "" ? "" : x >= 3, sprintf("sign-1: abrmd/ours TPM commands %s/%s = %s (>= 3)",
	     a == "" ? "-" : T[a], r == "" ? "-" : T[r], fmt(x, 2)))
	x = (r == "" || a == "") ? "" : MED[r] < MED[a]
	y = (r == "" || a == "") ? "" : ratio(MED[a], MED[r])
	goal(x, sprintf("sign-1: median ours %s ms < abrmd %s ms (abrmd/ours %s)",
	     r == "" ? "-" : fmt(MED[r], 2), a == "" ? "-" : fmt(MED[a], 2), fmt(y, 2)))
	split("lock free", lk, " ")
	for (i = 1; i <= 2; i++) {
		r = find("rm", "clients-8-" lk[i]); a = find("abrmd", "clients-8-" lk[i])
		if (r != "" && res[r, "status"] != "ok") r = ""
		if (a != "" && res[a, "status"] != "ok") a = ""
		x = (r == "" || a == "") ? "" : CL[r] < CL[a]
		goal(x, sprintf("clients-8-%s: context loads ours %s < abrmd %s (abrmd/ours %s)", lk[i],
		     r == "" ? "-" : CL[r], a == "" ? "-" : CL[a],
		     (r == "" || a == "") ? "-" : fmt(ratio(CL[a], CL[r]), 2)))
	}
	r = find("rm", "idle"); a = find("abrmd", "idle")
	if (r != "" || a != "")
		printf "- memory per open file/connection, one loaded key each: abrmd RSS %s B per connection (%s connections; guest MemFree %s B, Slab %s B per connection) vs ours %s B by MemFree (Slab %s B) per open file of /dev/tpmrm0 (%s files)\n",
		       a == "" || res[a, "rss_b_per_file"] == "" ? "-" : res[a, "rss_b_per_file"],
		       a == "" ? "-" : res[a, "files"] + 0,
		       a == "" ? "-" : res[a, "memfree_b_per_file"], a == "" ? "-" : res[a, "slab_b_per_file"],
		       r == "" ? "-" : res[r, "memfree_b_per_file"], r == "" ? "-" : res[r, "slab_b_per_file"],
		       r == "" ? "-" : res[r, "files"] + 0
	for (i = 1; i <= nlim; i++) {
		if (!(limits[i] in slim)) {
			print "- " limits[i]
			continue
		}
		split(limits[i], lk, SUBSEP)
		printf "- on %s, in the set-up of %s: %s; no loop ran\n", lk[1], slimw[limits[i]], lk[2]
	}
	split("rm abrmd raw", lk, " ")
	for (i = 1; i <= 3; i++) {
		r = find(lk[i], "limits")
		if (r == "")
			continue
		if (res[r, "status"] != "ok") {
			printf "- limits probe on %s: %s\n", lk[i], res[r, "status"] " " res[r, "error"]
			continue
		}
		printf "- limits probe on %s, one open file/connection (at most %s each): %s HMAC sessions started, then %s; %s loaded copies of a key, then %s\n",
		       lk[i], res[r, "tried"], res[r, "sessions"],
		       res[r, "session_rc"] == "0x0" ? "no refusal" : "refused with " res[r, "session_rc"] limit_rc(res[r, "session_rc"]),
		       res[r, "objects"],
		       res[r, "object_rc"] == "0x0" ? "no refusal" : "refused with " res[r, "object_rc"] limit_rc(res[r, "object_rc"])
	}
	for (i = 1; i <= nalog; i++) {
		ln = alog[i]
		sub(/^A +/, "", ln)
		print "- abrmd said (count, line): " ln
	}
	# "C path workload count line": one line per path and message, with
	# the count summed over the workloads that were told it
	for (i = 1; i <= nclog; i++) {
		ln = clog[i]
		sub(/^C +/, "", ln)
		p = ln
		sub(/ .*/, "", p)
		sub(/^[^ ]+ +/, "", ln)
		k = ln
		sub(/ .*/, "", k)
		sub(/^[^ ]+ +/, "", ln)
		x = ln
		sub(/ .*/, "", x)
		sub(/^[^ ]+ +/, "", ln)
		y = p SUBSEP ln
		if (!(y in ctold))
			corder[++nco] = y
		ctold[y] += x
		cwl[y] = cwl[y] (cwl[y] == "" ? "" : ", ") k
	}
	for (i = 1; i <= nco; i++) {
		split(corder[i], lk, SUBSEP)
		printf "- clients on %s were told (%d times; %s): %s\n", lk[1], ctold[corder[i]],
		       cwl[corder[i]], lk[2]
	}
}

function goal(ok, text) {
	printf "- goal %s: %s\n", ok == "" ? "NOT MEASURED" : ok ? "reached" : "NOT reached", text
}

function find(f, name,    i) {
	for (i = 1; i <= nw; i++)
		if (res[f, order[i], "name"] == name)
			return f SUBSEP order[i]
	return ""
}

END {
	print "workload,path,status,ops,client_cmds,tpm_cmds,tpm_per_client,extra_per_client,context_loads,context_saves,flushes,median_ms,p95_ms,model_spi_ms_per_op,model_i2c_ms_per_op,optimum_loads" > csv
	print "| workload | path | ops | client cmds | TPM cmds | TPM/client | extra/client | load/save/flush | median ms | p95 ms | model SPI ms/op | model I2C ms/op | loads / optimum |"
	print "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"
	nf = split("base rm abrmd raw base-hmac rm-hmac", fls, " ")
	for (i = 1; i <= nw; i++)
		for (j = 1; j <= nf; j++)
			if ((fls[j], order[i], "name") in res && res[fls[j], order[i], "name"] != "limits")
				row(fls[j], order[i])
	print ""
	print "TPM commands counted by swtpm outside the guest, loop phase only; model ms: /work/shared/tpm-latency-model.md costed on that trace (a model, not a measurement); median/p95: guest CLOCK_MONOTONIC per op under QEMU TCG; optimum: Belady's MIN, 3 object + 3 session slots, best start."
	print ""

	# the raw floor: sign-1 on the raw path (results before it: the row raw)
	r = find("rm", "sign-1"); b = find("base", "sign-1"); w = find("raw", "sign-1")
	if (w == "")
		w = find("rm", "raw")
	x = r == "" ? "" : ratio(T[r], C[r])
	goal(x == "" ? "" : x <= 1.02, "sign-1 on ours " fmt(x, 3) " TPM commands per client command (<= 1.02)")
	x = (r == "" || w == "" || b == "") ? "" : MED[r] <= 1.05 * MED[w] && MED[r] < MED[b]
	y = (r == "" || w == "") ? "" : 100 * (ratio(MED[r], MED[w]) - 1)
	goal(x, sprintf("sign-1 median %s ms on ours vs %s ms raw (%s%%) and %s ms base",
	     fmt(MED[r], 2), fmt(MED[w], 2), fmt(y, 1), fmt(MED[b], 2)))
	# make bench PERSONALITY=...: every command takes the latency model's
	# time in wall time (the proxy sleeps), so the loop's wall time is
	# that chip's; issue 17 asks ours within 2% of raw.
	if (personality != "") {
		x = (r == "" || w == "") ? "" : ratio(res[r, "wall_ms"], res[w, "wall_ms"])
		goal(x == "" ? "" : x <= 1.02, sprintf("behind the personality %s (latency model in wall time): sign-1 loop %s ms on ours vs %s ms raw for %s ops (%s%%; median %s vs %s ms) (<= 2%%)",
		     personality, fmt(res[r, "wall_ms"], 0), fmt(res[w, "wall_ms"], 0), res[r, "ops"],
		     fmt(x == "" ? "" : 100 * (x - 1), 2), fmt(MED[r], 2), fmt(MED[w], 2)))
	}
	r8 = find("rm", "clients-8-lock"); b8 = find("base", "clients-8-lock")
	x = (r8 == "" || b8 == "") ? "" : ratio(T[b8], T[r8])
	goal(x == "" ? "" : x >= 3, "clients-8 lockstep: base/ours TPM commands " fmt(x, 2) " (>= 3)")
	if (r8 != "" && res[r8, "status"] != "ok")
		r8 = ""
	x = r8 == "" ? "" : (OPT[r8] > 0 ? CL[r8] / OPT[r8] : (CL[r8] == 0 ? 1 : ""))
	goal(x == "" ? "" : x <= 1.2, "clients-8 lockstep: context loads ours/optimum " (r8 == "" ? "-" : CL[r8] "/" OPT[r8]) " = " fmt(x, 2) " (<= 1.2)")
	x = (r == "" || b == "") ? "" : ratio(SPI[b], SPI[r])
	y = (r == "" || b == "") ? "" : ratio(i2c[b], i2c[r])
	goal(x == "" ? "" : x >= 4, "modeled SPI time (a model) sign-1 base/ours " fmt(x, 2) " (>= 4); I2C column " fmt(y, 2) "; raw floor " fmt(w == "" ? "" : SPI[w], 1) " ms/op")
	ri = find("rm", "idle"); bi = find("base", "idle")
	x = ri == "" || res[ri, "status"] != "ok" ? "" : res[ri, "memfree_b_per_file"] + 0
	goal(x == "" ? "" : x <= 4096, sprintf("idle kernel memory per open file on ours %s B by MemFree (Slab %s B); base %s B (Slab %s B) (<= 4096)",
	     x == "" ? "-" : x, ri == "" ? "-" : res[ri, "slab_b_per_file"],
	     bi == "" ? "-" : res[bi, "memfree_b_per_file"], bi == "" ? "-" : res[bi, "slab_b_per_file"]))

	abrmd_report()

	kmix_report()

	# The RM's own counters against swtpm's count, loop phases of rm.
	print ""
	n = 0
	for (i = 1; i <= nw; i++) {
		key = "rm" SUBSEP order[i]
		if (!((key, "rm_context_loads") in res))
			continue
		n++
		dl = bycc[key, "00000161"] - client_cc("rm", order[i], "cl") - res[key, "rm_context_loads"]
		ds = bycc[key, "00000162"] - client_cc("rm", order[i], "cs") - res[key, "rm_context_saves"]
		df = bycc[key, "00000165"] - client_cc("rm", order[i], "fc") - res[key, "rm_flushes"]
		if (dl || ds || df)
			printf "- counters: %s: swtpm minus client minus RM counter: ContextLoad %+d, ContextSave %+d, FlushContext %+d (RM: loads %d saves %d flushes %d evictions %d retries %d answered %d)\n",
			       res[key, "name"], dl, ds, df, res[key, "rm_context_loads"],
			       res[key, "rm_context_saves"], res[key, "rm_flushes"],
			       res[key, "rm_evictions"], res[key, "rm_retries"],
			       res[key, "rm_answered"]
		else
			agree = agree " " res[key, "name"]
	}
	if (n)
		printf "- counters: RM sysfs counters equal swtpm's count (minus the client's own) for:%s\n", agree == "" ? " none" : agree
	else
		print "- counters: no RM counters in sysfs (no rm flavour run)"
	for (k in err) {
		split(k, p, SUBSEP)
		printf "- TPM errors in the loop of %s %s: %d x cc:rc %s\n",
		       p[1], res[p[1], p[2], "name"], err[k], p[3]
	}
	for (k in serr) {
		split(k, p, SUBSEP)
		if (res[p[1], p[2], "status"] == "ok")
			continue
		printf "- TPM errors in the setup of %s %s (failed): %d x cc:rc %s\n",
		       p[1], res[p[1], p[2], "name"], serr[k], p[3]
	}
	for (k in kerr) {
		split(k, p, SUBSEP)
		printf "- TPM errors in the kernel operations of %s %s: %d x cc:rc %s\n",
		       p[1], res[p[1], p[2], "name"], kerr[k], p[3]
	}
	for (k in khwrng) {
		split(k, p, SUBSEP)
		printf "- left out of the counts: %d GetRandom of the kernel's hwrng thread in the client loop of %s %s\n",
		       khwrng[k], p[1], res[k, "name"]
	}
	for (k in hwrng) {
		split(k, p, SUBSEP)
		hw = hw " " p[1] "/" res[k, "name"] ":" hwrng[k]
	}
	for (k in probe) {
		split(k, p, SUBSEP)
		pr = pr " " p[1] "/" res[k, "name"] ":" probe[k]
	}
	if (pr != "")
		print "- left out of the counts: the device TCTI's GetRandom(8) probe in Tss2_TctiLdr_Initialize, one per open in loop phases:" pr
	if (hw != "")
		print "- left out of the counts: the kernel hwrng thread's GetRandom(64) in loop phases:" hw
	for (i = 1; i <= ninfo; i++)
		printf "- %s: %s\n", infof[i], infol[i]

	# Plot data: workload, TPM/client per kernel, median ms per kernel.
	for (i = 1; i <= nw; i++) {
		line = ""
		for (j = 1; j <= nf; j++) {
			if (!(fls[j] in flv))
				continue
			key = fls[j] SUBSEP order[i]
			v = res[key, "status"] == "ok" ? ratio(T[key], C[key]) : ""
			line = line " " (v == "" ? "nan" : v)
			nm = res[key, "name"] != "" ? res[key, "name"] : nm
		}
		for (j = 1; j <= nf; j++) {
			if (!(fls[j] in flv))
				continue
			key = fls[j] SUBSEP order[i]
			line = line " " (res[key, "status"] == "ok" ? MED[key] : "nan")
		}
		print nm line > dat
	}
}
