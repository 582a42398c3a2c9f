// SPDX-License-Identifier: GPL-2.0
/*
 * Suspend to RAM and resume with /dev/tpmrm0 files holding contexts.
 *
 * Before suspend the kernel sends TPM2_Shutdown(STATE); objects and
 * sessions loaded in the TPM do not survive the following power loss, saved
 * contexts do. The RM must therefore evict everything it keeps resident
 * before that Shutdown, and after resume every space must carry on: its
 * keys sign, its sessions authorize, and a session its client saved loads
 * again. In QEMU, S3 resets the TPM and the firmware sends
 * TPM2_Startup(STATE) on the way back, as a real machine does.
 *
 * It suspends the machine it runs on only when TPMRM_SUSPEND=1 is in its
 * environment (the harness sets it); otherwise it is skipped, so that
 * running the selftests as root on a workstation never puts it to sleep.
 *
 * The test arms the RTC alarm and writes "mem" to /sys/power/state itself,
 * and runs no other program after resume: a test guest whose root
 * filesystem does not come back from S3 (virtio-9p) can still run it from
 * a copy in tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtc.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define RTC_DEV		"/dev/rtc0"
#define WAKE_AFTER	2	/* seconds */

FIXTURE(suspend) {
	int ready;		/* setup done; 6.1's harness runs the test
				 * body even after SKIP in setup
				 */
	int a, b, c;
	struct tpm2_key ka, kb;
	struct tpm2_session sa, sb, sp;
	struct tpm2_context sp_ctx;
};

static int power_state_has(const char *state)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/power/state", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !!strstr(buf, state);
}

/* Make "mem" mean S3 rather than suspend-to-idle. */
static int mem_sleep_select_deep(void)
{
	char buf[128] = "";
	ssize_t n;
	int fd;

	fd = open("/sys/power/mem_sleep", O_RDWR);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0 && strstr(buf, "deep"))
		n = pwrite(fd, "deep", 4, 0);
	else
		n = -1;
	close(fd);
	return n == 4 ? 0 : -ENOENT;
}

/* Arm the RTC to wake the machine @secs seconds from now. */
static int rtc_wake_arm(int rtc, int secs)
{
	struct rtc_wkalrm alarm = { .enabled = 1 };
	struct rtc_time now;
	struct tm tm;
	time_t t;

	if (ioctl(rtc, RTC_RD_TIME, &now))
		return -errno;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = now.tm_sec;
	tm.tm_min = now.tm_min;
	tm.tm_hour = now.tm_hour;
	tm.tm_mday = now.tm_mday;
	tm.tm_mon = now.tm_mon;
	tm.tm_year = now.tm_year;
	t = timegm(&tm) + secs;
	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	alarm.time.tm_sec = tm.tm_sec;
	alarm.time.tm_min = tm.tm_min;
	alarm.time.tm_hour = tm.tm_hour;
	alarm.time.tm_mday = tm.tm_mday;
	alarm.time.tm_mon = tm.tm_mon;
	alarm.time.tm_year = tm.tm_year;
	if (ioctl(rtc, RTC_WKALM_SET, &alarm))
		return -errno;
	return 0;
}

/* Suspend to @state and return after resume; 0 or a negative errno. */
static int suspend_and_resume(const char *state)
{
	struct rtc_wkalrm off = { .enabled = 0 };
	int rtc, fd, ret;

	rtc = open(RTC_DEV, O_RDONLY);
	if (rtc < 0)
		return -errno;
	ret = rtc_wake_arm(rtc, WAKE_AFTER);
	if (ret)
		goto close_rtc;
	fd = open("/sys/power/state", O_WRONLY);
	if (fd < 0) {
		ret = -errno;
		goto disarm;
	}
	/* The write returns once the machine has resumed. */
	if (write(fd, state, strlen(state)) < 0)
		ret = -errno;
	close(fd);
disarm:
	ioctl(rtc, RTC_WKALM_SET, &off);
close_rtc:
	close(rtc);
	return ret;
}

FIXTURE_SETUP(suspend)
{
	self->ready = 0;
	self->a = -1;
	self->b = -1;
	self->c = -1;
	if (getuid())
		SKIP(return, "needs root");
	if (!getenv("TPMRM_SUSPEND") || strcmp(getenv("TPMRM_SUSPEND"), "1"))
		SKIP(return, "suspends this machine: set TPMRM_SUSPEND=1");
	if (!power_state_has("mem"))
		SKIP(return, "/sys/power/state offers no 'mem'");
	if (mem_sleep_select_deep())
		SKIP(return, "no S3 ('deep' in /sys/power/mem_sleep)");
	if (access(RTC_DEV, R_OK))
		SKIP(return, "no %s to wake the machine", RTC_DEV);
	self->a = tpm2_open(TPM2_RM_DEV, 0);
	self->b = tpm2_open(TPM2_RM_DEV, 0);
	self->c = tpm2_open(TPM2_RM_DEV, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);

	/* b: a key and a session the RM has saved (a raw command evicts) */
	ASSERT_EQ(0, tpm2_create_primary(self->b, TPM2_KEY_SIGN, NULL, 0,
					 &self->kb));
	ASSERT_EQ(0, tpm2_start_session(self->b, TPM2_SE_HMAC, &self->sb));
	ASSERT_EQ(0, tpm2_raw_command());
	/* a: a key and a session resident in the TPM */
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &self->ka));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_HMAC, &self->sa));
	/* c: a policy session its client saved */
	ASSERT_EQ(0, tpm2_start_session(self->c, TPM2_SE_POLICY, &self->sp));
	ASSERT_EQ(0, tpm2_context_save(self->c, self->sp.handle,
				       &self->sp_ctx));
	self->ready = 1;
}

FIXTURE_TEARDOWN(suspend)
{
	close(self->a);
	close(self->b);
	close(self->c);
}

#define SUSPEND_OK	"/sys/power/suspend_stats/success"

TEST_F(suspend, spaces_carry_on)
{
	uint64_t ev0 = 0, ev1 = 0, objs = 1, sess = 1, ok0, ok1;
	uint8_t digest[TPM2_DIGEST_SIZE];
	struct tpm2_session fresh;
	struct tpm2_auth auth;
	struct tpm2_key kfresh;
	int counters;
	uint32_t h;

	if (!self->ready)
		return;
	counters = !tpm2_rm_counter("evictions", &ev0);
	ASSERT_EQ(0, tpm2_read_u64(SUSPEND_OK, &ok0));
	ASSERT_EQ(0, suspend_and_resume("mem"));
	/* the machine really went to sleep and came back */
	ASSERT_EQ(0, tpm2_read_u64(SUSPEND_OK, &ok1));
	ASSERT_EQ(ok0 + 1, ok1);
	if (counters) {
		/* ka and sa were resident: both left the TPM before Shutdown */
		ASSERT_EQ(0, tpm2_rm_counter("evictions", &ev1));
		ASSERT_EQ(0, tpm2_rm_counter("resident_objects", &objs));
		ASSERT_EQ(0, tpm2_rm_counter("resident_sessions", &sess));
		TH_LOG("evictions %llu -> %llu",
		       (unsigned long long)ev0, (unsigned long long)ev1);
		EXPECT_LE(ev0 + 2, ev1);
		EXPECT_EQ(0, objs);
		EXPECT_EQ(0, sess);
	}

	auth.attrs = TPM2_SA_CONTINUE_SESSION;
	auth.sess = &self->sa;
	EXPECT_EQ(0, tpm2_sign_check(self->a, &self->ka, &auth));
	auth.sess = &self->sb;
	EXPECT_EQ(0, tpm2_sign_check(self->b, &self->kb, &auth));
	EXPECT_EQ(0, tpm2_context_load(self->c, &self->sp_ctx, &h));
	EXPECT_EQ(self->sp.handle, h);
	EXPECT_EQ(0, tpm2_policy_get_digest(self->c, self->sp.handle, digest));

	/* and the files take new entities */
	ASSERT_EQ(0, tpm2_create_primary(self->a, TPM2_KEY_SIGN, NULL, 0,
					 &kfresh));
	ASSERT_EQ(0, tpm2_start_session(self->a, TPM2_SE_HMAC, &fresh));
	auth.sess = &fresh;
	EXPECT_EQ(0, tpm2_sign_check(self->a, &kfresh, &auth));
}

TPMRM_TEST_MAIN()
