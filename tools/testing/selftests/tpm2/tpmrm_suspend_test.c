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
 * On a kernel with TCG_TPM2_HMAC (null_name in sysfs) and IMA, an IMA
 * measurement just before suspend leaves the kernel's own HMAC session
 * loaded, so the machine suspends with a live kernel session: the kernel
 * ends it before TPM2_Shutdown, and after resume it measures again (PCR 10
 * matches the log), hwrng reads succeed and null_name is unchanged, so the
 * chip was not disabled.
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
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtc.h>

#include "../kselftest_harness.h"
#include "tpm2_lib.h"

#define RTC_DEV		"/dev/rtc0"
#define WAKE_AFTER	2	/* seconds */
#define NULL_NAME	"/sys/class/tpm/tpm0/null_name"

FIXTURE(suspend) {
	int ready;		/* setup done; 6.1's harness runs the test
				 * body even after SKIP in setup
				 */
	int a, b, c;
	struct tpm2_key ka, kb;
	struct tpm2_session sa, sb, sp;
	struct tpm2_context sp_ctx;
	int kernel;		/* HMAC kernel: its session is live */
	char null_name[256];
	char dir[64];		/* a tmpfs IMA measures files on */
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

/*
 * With kernel HMAC sessions: a tmpfs that IMA measures files on, and its
 * policy.  1 on such a kernel, 0 without them, or a negative errno.
 */
static int kernel_setup(FIXTURE_DATA(suspend) *self)
{
	if (tpm2_read_text(NULL_NAME, self->null_name, sizeof(self->null_name)))
		return 0;
	snprintf(self->dir, sizeof(self->dir), "/tmp/tpmrm_suspend_XXXXXX");
	if (!mkdtemp(self->dir))
		return -errno;
	if (mount("tmpfs", self->dir, "tmpfs", 0, "size=1m")) {
		rmdir(self->dir);
		self->dir[0] = 0;
		return -errno;
	}
	return tpm2_ima_policy_once() ?: 1;
}

/*
 * An IMA measurement leaves the kernel's session loaded.  The hwrng
 * thread may end it at any time (tpm2_get_random() does), so measure until
 * the RM counts it, right before suspend.  The count, or -1 without the
 * RM's counters.
 */
static long kernel_session_live(FIXTURE_DATA(suspend) *self)
{
	uint64_t live = 0;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (tpm2_ima_measure_files(self->dir, 1))
			return -2;
		if (tpm2_rm_counter("kernel_sessions", &live))
			return -1;
		if (live)
			break;
	}
	return live;
}

FIXTURE_SETUP(suspend)
{
	self->ready = 0;
	self->a = -1;
	self->b = -1;
	self->c = -1;
	self->dir[0] = 0;
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
	self->kernel = kernel_setup(self);
	ASSERT_LE(0, self->kernel);
	self->ready = 1;
}

FIXTURE_TEARDOWN(suspend)
{
	close(self->a);
	close(self->b);
	close(self->c);
	if (self->dir[0]) {
		umount(self->dir);
		rmdir(self->dir);
	}
}

#define SUSPEND_OK	"/sys/power/suspend_stats/success"

TEST_F(suspend, spaces_carry_on)
{
	uint64_t ev0 = 0, ev1 = 0, objs = 1, sess = 1, ok0, ok1;
	uint8_t rnd[32], pcr[TPM2_DIGEST_SIZE], replay[TPM2_DIGEST_SIZE];
	char after[256];
	long live;
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
	if (self->kernel) {
		live = kernel_session_live(self);
		TH_LOG("kernel sessions at suspend: %ld", live);
		ASSERT_NE(-2, live);
		if (counters)
			ASSERT_EQ(1, live);
	}
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
	if (!self->kernel)
		return;

	/* a disabled chip (failed null key load) fails every one of these */
	EXPECT_EQ((ssize_t)sizeof(rnd), tpm2_hwrng_read(rnd, sizeof(rnd)));
	EXPECT_EQ(0, tpm2_ima_measure_files(self->dir, 1));
	EXPECT_EQ(0, tpm2_pcr_read(self->a, 10, pcr));
	ASSERT_EQ(0, tpm2_ima_replay_pcr10(replay));
	EXPECT_EQ(0, memcmp(pcr, replay, sizeof(pcr)));
	ASSERT_EQ(0, tpm2_read_text(NULL_NAME, after, sizeof(after)));
	EXPECT_STREQ(self->null_name, after);
}

TPMRM_TEST_MAIN()
