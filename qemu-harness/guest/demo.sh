# The `make run` demonstration, run in the guest as root: udev sets the
# device permissions from Debian's tpm-udev rules, then two unprivileged
# users in group tss share /dev/tpmrm0 while raw /dev/tpm0 stays apart.
echo "== tpmrm demo on tpm-$TPMRM_TPM, kernel $(uname -r)"
/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 &&
	udevadm trigger --action=add --subsystem-match=tpm --subsystem-match=tpmrm &&
	udevadm settle
ls -l /dev/tpm0 /dev/tpmrm0
for u in alice bob; do
	useradd -m -G tss "$u" 2>/dev/null
done
echo "== alice (not the owner of /dev/tpm0) opening the raw device:"
setpriv --reuid=alice --regid=alice --init-groups \
	sh -c 'exec 3<>/dev/tpm0' 2>&1 | sed 's/^/   /'
echo "== two users on /dev/tpmrm0, and root on /dev/tpm0:"
python3 "$TPMRM_REPO/qemu-harness/guest/demo.py"
