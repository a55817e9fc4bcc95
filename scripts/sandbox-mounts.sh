# The sandbox's mounts, sourced by test/helpers/sandbox.ts and scripts/bench inside a private
# mount namespace (unshare --mount --propagation private), with S set to a directory holding
# proc-sys/ etc-upper/ etc-work/ etc-sysctl.d/ var-lib/ run/ vendor-sysctl.d/ and sysctl.conf.
# Afterwards /proc/sys, /etc/sysctl.d, /etc/sysctl.conf, /var/lib, /run and the vendor sysctl.d
# directories are those of the sandbox, and every other write to /etc lands in etc-upper: this
# machine's kernel and files are never touched. -n: /run/mount/utab is this machine's.
mount -n --bind "$S/proc-sys" /proc/sys
# Runs that share one sandbox at once (the lock tests start ten) share the overlay's work
# directory, which each overlay mount empties and makes anew: mounted together, one of them can
# find it gone (mount: "special device overlay does not exist"). They mount one at a time.
flock "$S/etc-work.lock" mount -n -t overlay overlay -o "lowerdir=/etc,upperdir=$S/etc-upper,workdir=$S/etc-work" /etc
mkdir -p /etc/sysctl.d
mount -n --bind "$S/etc-sysctl.d" /etc/sysctl.d
[ -e /etc/sysctl.conf ] || : > /etc/sysctl.conf
mount -n --bind "$S/sysctl.conf" /etc/sysctl.conf
mount -n --bind "$S/var-lib" /var/lib
for d in /usr/lib/sysctl.d /usr/local/lib/sysctl.d /lib/sysctl.d; do
  if [ -d "$d" ] && ! [ -L "$d" ]; then mount -n --bind "$S/vendor-sysctl.d" "$d"; fi
done
mount -n --bind "$S/run" /run
