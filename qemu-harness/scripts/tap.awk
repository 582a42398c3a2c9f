# Count the tests in one boot's results (see guest/check.sh for the format).
# Prints a line per unit, the names of failed tests, and "#counts P F S".
function flush_unit(   verdict) {
	if (unit == "")
		return
	if (kind == "tap" || kind == "ktap") {
		if (plan > seen) {
			f += plan - seen
			print "#   " plan - seen " planned test(s) never reported"
		}
	}
	if (kind == "pyunit" && ran > seen) {
		f += ran - seen
		print "#   " ran - seen " test(s) ran without a verdict"
	}
	if (kind == "kmemleak") {
		if (body > 0) { f++; print "#   kmemleak found " body " line(s) of leaks" } else p++
	}
	# exit 4 is kselftest's skip: one skip unless the output said so
	if (rc == 4 && p + f == 0) {
		if (s == 0)
			s++
	} else if (rc != 0 && f == 0) {
		f++
		print "#   exited with " rc
	}
	verdict = (f > 0) ? "not ok" : "ok"
	if (kind != "dmesg")
		printf "%s - %s/%s: %d passed, %d failed, %d skipped\n", verdict, tag, unit, p, f, s
	P += p; F += f; S += s
	unit = ""
}
/^### BEGIN / {
	flush_unit()
	unit = $3; kind = $4; p = f = s = 0; plan = seen = ran = body = 0; rc = -1
	if (unit in done) { dup = 1 } else dup = 0
	next
}
/^### END / {
	rc = $4 + 0
	done[unit] = 1
	flush_unit()
	next
}
unit == "" { next }
kind == "tap" && /^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
kind == "tap" && /^(not )?ok [0-9]+/ {
	seen++
	if ($0 ~ /# *SKIP/) s++
	else if ($1 == "ok") p++
	else { f++; print "#   failed: " $0 }
	next
}
kind == "ktap" && /^    1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
# A parameterised case: its summary line counts each parameter.
kind == "ktap" && /^    # [^ ]+: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+ total:/ {
	split($0, kv, /[: ]+/)
	param_case = kv[3]; param_p = kv[5]; param_f = kv[7]; param_s = kv[9]
	next
}
kind == "ktap" && /^    (not )?ok [0-9]+/ {
	seen++
	name = ($1 == "ok") ? $3 : $4
	if (name == param_case) {
		p += param_p; f += param_f; s += param_s
		if (param_f > 0 || $1 == "not") print "#   failed: " $0
		if ($1 == "not" && param_f == 0) f++
		param_case = ""
	} else if ($0 ~ /# *SKIP/) s++
	else if ($1 == "ok") p++
	else { f++; print "#   failed: " $0 }
	next
}
kind == "ktap" && /^not ok [0-9]+/ { if (f == 0) { f++; print "#   suite failed: " $0 }; next }
kind == "pyunit" && /^Ran [0-9]+ test/ { ran += $2; next }
kind == "pyunit" && / \.\.\. ok$/ { seen++; p++; next }
kind == "pyunit" && / \.\.\. skipped/ { seen++; s++; next }
kind == "pyunit" && / \.\.\. (FAIL|ERROR)$/ { seen++; f++; print "#   failed: " $0; next }
kind == "kmemleak" && NF > 0 { body++; next }
END {
	if (unit != "") {
		print "#   unit " unit " never finished"
		f++
		flush_unit()
	}
	printf "#counts %d %d %d\n", P, F, S
}
