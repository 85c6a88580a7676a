#!/usr/bin/env bash
# e2e: heavy (each program compiled and run under bpftrace and ours: a core busy throughout)
# Programs written as users write them (bpftrace's tutorial, one-liners and
# reference guide: tracepoints, BEGIN/END, interval, maps and their
# printing, printf formats, builtins, control flow, tuples, uprobes), each
# run as `tracegate-runner exec -c WORKLOAD -e PROG` and as
# `bpftrace -c WORKLOAD -e PROG` (bpftrace 0.17), stdout compared exactly
# after the case's normalization (only what truly varies: times, pids,
# addresses).  WORKLOAD is tests/tools/lib-user-workload.c: a fixed set of
# system calls and user function calls, so both runs see the same events.
# Differences that are deliberate are in docs/compat.md and not here.
source "$(dirname "$0")/lib-userprog.sh" || exit 0

# ---- BEGIN / END, printf ----------------------------------------------------
same "hello world" 'BEGIN { printf("hello world\n"); exit(); }'
same "printf integer formats" \
	'BEGIN { printf("%d %u %x %X %lu %ld %llu|%5d|%-5d|%05d|%o\n", -5, 5, 255, 255, 123456789012, -42, 7, 42, 42, 42, 8); exit(); }'
same "printf string widths" \
	'BEGIN { printf("%-10s|%10s|%s|%c|%%\n", "left", "right", "plain", 65); exit(); }'
same "printf header as tools print it" \
	'BEGIN { printf("%-6s %-16s %4s %s\n", "PID", "COMM", "FD", "PATH"); exit(); }'
same "escapes in strings" 'BEGIN { printf("a\tb\\c \"q\"\n"); exit(); }'
same "negative numbers" \
	'BEGIN { $x = -10; printf("%d %d %d %d\n", $x, $x * 3, -$x, $x + 4); @neg = -5; @m = -1 * 7; exit(); }'
same "unsigned and casts" \
	'BEGIN { printf("%d %d %d %d %u\n", (uint8)300, (int8)200, (int16)70000, (uint16)-1, (uint32)-1); exit(); }'
same "arithmetic and bit operators" \
	'BEGIN { printf("%d %d %d %d %d %d %d %d\n", 7 / 2, 7 % 3, 6 & 3, 6 | 3, 6 ^ 3, 1 << 10, 1024 >> 3, !0); exit(); }'
same "comparison and logic" \
	'BEGIN { printf("%d %d %d %d %d\n", 3 > 2, 3 < 2, 2 >= 2, 1 && 0, 1 || 0); exit(); }'
same "compound assignment and increments" \
	'BEGIN { $x = 5; $x += 3; $x <<= 1; $x -= 1; $y = $x++; @c++; @c++; @d--; printf("%d %d\n", $x, $y); exit(); }'
same "ternary" 'BEGIN { $a = 5; printf("%s %d\n", $a > 3 ? "big" : "small", $a == 5 ? 1 : 0); exit(); }'
same "if else if else" \
	'BEGIN { $v = 15; if ($v < 10) { printf("low\n"); } else if ($v < 20) { printf("mid\n"); } else { printf("high\n"); } exit(); }'
same "string comparison" \
	'BEGIN { $s = "abc"; if ($s == "abc") { printf("eq\n"); } if ($s != "abd") { printf("ne\n"); } if ("abc" == "ab") { printf("bad\n"); } exit(); }'
same "while loop" 'BEGIN { $i = 0; while ($i < 5) { printf("%d ", $i); $i++; } printf("\n"); exit(); }'
same "while with break and continue" \
	'BEGIN { $i = 0; while ($i < 10) { $i++; if ($i % 2 == 0) { continue; } if ($i > 7) { break; } printf("%d\n", $i); } exit(); }'
same "unroll" 'BEGIN { $i = 1; unroll(4) { printf("i=%d\n", $i); $i = $i * 2; } exit(); }'
same "END block and maps" \
	'BEGIN { @x = 1; @y["a"] = 2; exit(); } END { printf("end %d\n", @x); delete(@x); }'
same "END clears a map" 'BEGIN { @a[1] = 1; @b = 2; exit(); } END { clear(@a); }'
same "uid and nsecs" \
	'BEGIN { printf("%d %d %d\n", uid, nsecs > 0, elapsed < 100000000000); exit(); }'
same "time and strftime" \
	'BEGIN { time("%Y\n"); printf("%s\n", strftime("%Y-%m", nsecs)); exit(); }' \
	"s/^$(date +%Y)(-[0-9]{2})?$/YEAR/"
same "tuples" \
	'BEGIN { $t = (1, "two", -3); printf("%d %s %d\n", $t.0, $t.1, $t.2); @t = $t; @n = ((int8)1, ("x", 2)); print($t); exit(); }'

# ---- maps and their printing at exit ----------------------------------------
same "map printing order" \
	'BEGIN { @a[3] = 1; @a[1] = 30; @a[2] = 20; @b["x"] = 2; @b["y"] = 1; @c = 5; exit(); }'
same "string and multiple keys" \
	'BEGIN { @[ "b", 2] = 1; @["a", 1] = 3; @["a", 2] = 2; @s["k"] = "value"; exit(); }'
same "count sum avg min max stats" \
	'BEGIN { @c = count(); @c = count(); @s = sum(5); @s = sum(-2); @a = avg(10); @a = avg(3); @mn = min(4); @mn = min(-9); @mx = max(4); @mx = max(11); @st = stats(10); @st = stats(-2); @st = stats(7); exit(); }'
same "hist" \
	'BEGIN { @h = hist(0); @h = hist(1); @h = hist(5); @h = hist(5); @h = hist(1000); @h = hist(-3); @h = hist(1048576); exit(); }'
same "lhist" \
	'BEGIN { @l = lhist(3, 0, 100, 10); @l = lhist(45, 0, 100, 10); @l = lhist(45, 0, 100, 10); @l = lhist(-1, 0, 100, 10); @l = lhist(250, 0, 100, 10); exit(); }'
same "keyed hist" 'BEGIN { @h["a"] = hist(3); @h["b"] = hist(300); @h["a"] = hist(4); exit(); }'
same "print clear zero delete" \
	'BEGIN { @a[1] = 1; @a[2] = 2; print(@a); delete(@a[1]); print(@a); zero(@a); print(@a); clear(@a); print(@a); @b = 3; print(@b); exit(); }'
same "print with top and divisor" \
	'BEGIN { @m["a"] = 10; @m["b"] = 300; @m["c"] = 20; print(@m, 2); print(@m, 0, 10); clear(@m); exit(); }'
same "print of values" 'BEGIN { print(5); print(-5); print("str"); print((1, "a")); exit(); }'
same "stats and avg keyed" \
	'BEGIN { @s["x"] = stats(1); @s["x"] = stats(3); @s["y"] = stats(100); @a[1] = avg(5); @a[2] = avg(-5); exit(); }'

# ---- tracepoints, filtered to the workload ---------------------------------
same "count a syscall by comm" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[comm] = count(); }'
same "count syscalls by probe" \
	'tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_close /pid == cpid/ { @[probe] = count(); }'
same "syscall wildcard by probe" \
	'tracepoint:syscalls:sys_enter_getp* /pid == cpid/ { @[probe] = count(); }'
same "write sizes: sum avg min max stats" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @sum = sum(args->count); @avg = avg(args->count); @min = min(args->count); @max = max(args->count); @st = stats(args->count); }'
same "write sizes hist" 'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @bytes = hist(args->count); }'
same "read sizes lhist" 'tracepoint:syscalls:sys_enter_read /pid == cpid && args->count <= 300/ { @ = lhist(args->count, 0, 400, 100); }'
same "return values of read" \
	'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @[args->ret] = count(); }'
same "openat file names" \
	'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%s\n", str(args->filename)); }'
same "openat file names as map keys, str with length" \
	'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[str(args->filename, 6)] = count(); }'
# (strings of two lengths from ?: as map keys differ in 0.17: docs/compat.md)
same "ternary on args" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { printf("%s\n", args->count > 64 ? "big" : "small"); @[args->count > 64 ? 1 : 0] = count(); }'
same "multiple keys from args" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @[comm, args->count] = count(); }'
same "printf of comm and args" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { printf("%-16s %5d %x\n", comm, args->count, args->count); }'
same "pid tid cpid" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[pid == tid, pid == cpid] = count(); }'
same "latency with a start map" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @start[tid] = nsecs; } tracepoint:syscalls:sys_exit_write /@start[tid]/ { @n = count(); @ok = count(); delete(@start[tid]); }'
# how many more events count before the probes detach is a race in both
same "exit from a tracepoint" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n++; if (@n == 3) { printf("third\n"); exit(); } } END { printf("%d\n", @n >= 3); clear(@n); }'
same "sched fork" \
	'tracepoint:sched:sched_process_fork /args->parent_pid == (int32)cpid/ { printf("fork %s %d\n", comm, args->child_pid > 0); @forks = count(); }'
same "sched exit" \
	'tracepoint:sched:sched_process_exit /pid == cpid || args->pid != cpid && comm == "lib-user-worklo"/ { printf("exit %s\n", args->comm); }'
same "if in a tracepoint body" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { if (args->count >= 256) { @large++; } else { @small++; } }'
same "interval" 'interval:ms:100 /@n < 3/ { @n++; if (@n == 3) { printf("done\n"); exit(); } }'
same "two blocks on one probe run in order" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @a++; } tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @b = count(); if (@a == 10) { printf("ten\n"); } }'

# ---- uprobes on the workload ------------------------------------------------
same "uprobe arguments" 'uprobe:@WL@:uw_add { printf("%d %d\n", arg0, (int32)arg1); }'
same "uretprobe retval" 'uretprobe:@WL@:uw_add { @sum = sum((int32)retval); @[(int32)retval] = count(); }'
same "uprobe str argument" 'uprobe:@WL@:uw_greet { printf("greet %s\n", str(arg0)); @[str(arg0)] = count(); }'
same "uprobe wildcard and probe" 'uprobe:@WL@:uw_* { @[probe] = count(); }'
same "uprobe struct argument" \
	'struct uw_point { int x; int y; char name[8]; } uprobe:@WL@:uw_point { $p = (struct uw_point *)arg0; printf("%d %d %s\n", $p->x, $p->y, $p->name); }'
same "uprobe ustack" 'uprobe:@WL@:uw_greet { @[ustack(1)] = count(); }' 's/0x[0-9a-f]+/ADDR/'
same "uprobe and uretprobe pair" \
	'uprobe:@WL@:uw_add { @start[tid] = arg0; } uretprobe:@WL@:uw_add /@start[tid] >= 0/ { printf("%d -> %d\n", @start[tid], (int32)retval); delete(@start[tid]); }'
same "uprobe char array member and casts" \
	'struct uw_point { int x; int y; char name[8]; } uprobe:@WL@:uw_point { $p = (struct uw_point *)arg0; @[$p->name] = sum($p->x * $p->y); printf("%u %d\n", (uint32)$p->y, $p->y < 0); }'
same "kstack of a syscall tracepoint" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[kstack(1)] = count(); }'
same "printf with many arguments" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid && args->count == 512/ { printf("%s %d %d %d %d %s\n", comm, args->fd > 2, args->count, args->count / 2, -args->count, "end"); }'
same "probe builtin in printf" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n++; if (@n == 1) { printf("%s\n", probe); } }'
same "map of strings and last value" \
	'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @last = str(args->filename); @n[pid == cpid] = count(); }'
same "count in a map of tuples keys and zero at exit" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @[args->count % 3, args->count > 100] = count(); } END { printf("bye\n"); }'

# ---- struct values in tuples (bpftrace 0.17's runtime tests tuples
# "struct in tuple", "struct in tuple sizing", "array in tuple", "array in
# tuple sizing", struct "struct in a tuple" and json-output
# "tuple_with_struct", whose test programs are not here: the same
# constructs on the workload's struct) -----------------------------------
UWP='struct uw_point { int x; int y; char name[8]; }'
same "struct in a tuple" \
	"$UWP"' uprobe:@WL@:uw_point { @t = (1, *((struct uw_point *)arg0)); $t = ((int32)1, *((struct uw_point *)arg0)); print(sizeof($t)); print($t); }'
same "array in a tuple, packed" \
	'struct A { int x[2]; } uprobe:@WL@:uw_point { @t = (1, ((struct A *)arg0)->x); print(sizeof(((int8)1, ((struct A *)arg0)->x))); }'
same "nested struct, char, char array, pointer, bitfield members" \
	'struct I { int a; int b; } struct T { struct I in; char n; char s[3]; unsigned char u : 4; long *l; } uprobe:@WL@:uw_point { @t[comm] = ((int8)1, *((struct T *)arg0)); }'
same "a union in a tuple" 'union U { int a; char c[4]; } uprobe:@WL@:uw_point { print((1, *((union U *)arg0))); }'
same "a kernel struct in a tuple" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @t = (comm, curtask->thread_info.syscall_work, curtask->comm); exit(); }'
FLAGS="-f json" same "json: struct in a tuple" \
	"$UWP"' uprobe:@WL@:uw_point { @t = (0, *((struct uw_point *)arg0)); print((2, *((struct uw_point *)arg0))); }'
FLAGS="-f json" same "json: nested struct and array in a tuple" \
	'struct I { int a; int b; } struct T { struct I in; char n; short h[2]; } uprobe:@WL@:uw_point { @t[1] = (1, *((struct T *)arg0)); }'

# ---- struct values stored whole in variables and maps (bpftrace 0.17's
# runtime tests struct "struct assignment into variable", "struct
# assignment into map", "struct field order", "nested struct assignment
# into map", call "print_non_map_struct", json-output
# "print_non_map_struct", "print_non_map_nested_struct" and
# "tuple_with_struct" with a struct variable, regression
# "codegen_struct_save_nested": the same constructs on the workload's
# struct) ---------------------------------------------------------------
same "a struct in a variable, its members, print" \
	"$UWP"' uprobe:@WL@:uw_point { $s = *((struct uw_point *)arg0); printf("Result: %d %d %s\n", $s.x, $s.y, $s.name); print($s); }'
same "a struct, a nested struct and an array in maps" \
	"$UWP"' struct I { int y; } struct T { int x; struct I in; char s[2]; } struct A { int v[2]; } uprobe:@WL@:uw_point { @s = *((struct uw_point *)arg0); @n[comm] = *((struct T *)arg0); @a = ((struct A *)arg0)->v; $t = @n[comm]; printf("%d\n", $t.in.y); }'
same "stored arrays, indexed (0.17's array tests, constant indices)" \
	'struct A { int x[4]; } struct B { int y[2][2]; } uprobe:@WL@:uw_point { $a = ((struct A *)arg0)->x; @a[0] = ((struct A *)arg0)->x; $b = ((struct B *)arg0)->y; printf("%d %d %d %d\n", $a[0], @a[0][1], $b[1][0], $b[0][1]); @b = $b; }'
FLAGS="-f json" same "json: a struct variable, print and in a tuple" \
	"$UWP"' uprobe:@WL@:uw_point { $f = *((struct uw_point *)arg0); print($f); @ = (0, $f); @m[1] = $f; }'

# ---- more of what the one-liners do ----------------------------------------
same "execve of the command: filename and argv" \
	'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { printf("%s ", str(args->filename)); join(args->argv); }' \
	"s|$WL|WORKLOAD|g"
same "string compare of an argument" \
	'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { $f = str(args->filename); if ($f == "/dev/null") { @null++; } else { @other++; } }'
same "comm compared with a string in a predicate" \
	'tracepoint:syscalls:sys_enter_getppid /comm == "lib-user-worklo"/ { @[comm] = count(); }'
same "strncmp" \
	'tracepoint:syscalls:sys_enter_openat /pid == cpid && strncmp(str(args->filename), "/dev/", 5) == 0/ { printf("%s\n", str(args->filename)); }'
same "keyed by pid, normalized" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[pid, tid == pid] = count(); }' 's/^@\[[0-9]+,/@[PID,/'
same "min and max of args" \
	'tracepoint:syscalls:sys_enter_read /pid == cpid/ { @min = min(args->count); @max = max(args->count); @avg = avg(args->count); }'
same "sizeof and bswap" \
	'BEGIN { printf("%d %d %d %x %x\n", sizeof(uint32), sizeof(int8), sizeof(struct task_struct) > 1000, bswap((uint16)0x1234), bswap((uint32)0x12345678)); exit(); }'
same "positional-free defaults and integer literals" \
	'BEGIN { $big = 0xffffffffffffffff; $neg = -0x10; printf("%u %d %d %d\n", $big, $neg, 1000000 * 1000000, 1 - 2 - 3); exit(); }'
same "lhist with a step that does not divide" \
	'BEGIN { @l = lhist(7, 0, 20, 3); @l = lhist(19, 0, 20, 3); @l = lhist(20, 0, 20, 3); exit(); }'
same "print of a hist map before exit" \
	'BEGIN { @h = hist(10); @h = hist(100); print(@h); clear(@h); @x = 1; exit(); }'
same "a map of strings keyed by int" \
	'BEGIN { @names[1] = "one"; @names[2] = "two"; @names[10] = "ten"; exit(); }'
same "map value arithmetic" \
	'BEGIN { @x = 1; @x = @x + 1; @x *= 10; @y[1] = 5; @y[1] -= 7; printf("%d %d\n", @x, @y[1]); exit(); }'
same "nested if in while in a tracepoint" \
	'tracepoint:syscalls:sys_enter_write /pid == cpid/ { $n = args->count; $b = 0; while ($n > 1) { $n = $n / 2; $b++; } if ($b > 4) { if ($b > 7) { @[">7"] = count(); } else { @["5-7"] = count(); } } else { @["<=4"] = count(); } }'
# 0.17's max() keeps an entry only from a value >= 0 (docs/compat.md)
same "max of negative values" \
	'BEGIN { @x = max(-5); @y[1] = max(-5); @y[2] = max(4); @y[3] = max(-1); @y[3] = max(0); @z = max(-5); @z = max(7); @m = min(-5); exit(); }'
FLAGS="-f json" same "json: empty maps print nothing" \
	'BEGIN { @x = max(-5); @y = 1; delete(@y); @s = sum(1); clear(@s); @k[1] = 2; delete(@k[1]); @z = 3; exit(); }'
same "pointer map keys print in hex" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[curtask] = count(); @k[curtask, 1] = sum(2); }' 's/0x[0-9a-f]{8,16}/ADDR/'
same "a user pointer as key and its value" \
	'uprobe:@WL@:uw_greet { @c[(uint8 *)arg0] = count(); @v[*(uint8 *)arg0] = count(); }' 's/0x[0-9a-f]{8,16}/ADDR/'
FLAGS="-f json" same "json: pointer map keys in hex" \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[curtask, 1] = count(); @h[curtask] = hist(1); }' 's/0x[0-9a-f]{8,16}/ADDR/'
