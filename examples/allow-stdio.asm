# allow-stdio: an x86_64 filter that allows read, write, exit and
# exit_group and kills the process on anything else.
# `syscage asm examples/allow-stdio.asm -a amd64 -f raw` gives allow-stdio.bpf.
A = arch
if (A != ARCH_X86_64) goto deny
A = sys_number
if (A >= 0x40000000) goto deny     # x32 syscalls (bit 30) are not allowed
if (A == read) goto allow
if (A == write) goto allow
if (A == exit) goto allow
if (A == exit_group) goto allow
deny:
return KILL_PROCESS
allow:
return ALLOW
