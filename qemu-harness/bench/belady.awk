# SPDX-License-Identifier: GPL-2.0
# Belady's MIN for the clients-k lockstep sequence: k clients in strict
# round robin, each of "per" turns needing its key (object pool) and its
# HMAC session (session pool), each pool with "slots" TPM slots.
# belady_loads() returns the fewest context loads any eviction policy needs
# over both pools, with the best possible contents already loaded at the
# start (MIN from an empty TPM minus the first fill).

# Misses of MIN on one pool: item (t - 1) % k is needed at time t.
function belady_pool(k, per, slots,    t, T, c, x, n, miss, far, v, nu, inc) {
	T = k * per
	split("", inc)
	n = miss = 0
	for (t = 1; t <= T; t++) {
		c = (t - 1) % k
		if (c in inc)
			continue
		miss++
		if (n == slots) {
			far = -1
			for (x in inc) {
				nu = t + (x - c + k) % k
				if (nu > T)
					nu = T + 1 + x
				if (nu > far) {
					far = nu
					v = x
				}
			}
			delete inc[v]
			n--
		}
		inc[c] = 1
		n++
	}
	return miss - (k < slots ? k : slots)
}

function belady_loads(k, per, slots) {
	return 2 * belady_pool(k, per, slots)
}
