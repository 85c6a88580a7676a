#!/usr/bin/env python3
# Writes the seed corpus of fuzz-runner-sema (tests/fuzz/corpus/runner-sema/):
# the programs of tests/e2e/exec-user-programs*.sh and exec-lang02.sh, of
# bpftrace 0.17's runtime tests (../shared/compat, when present), and
# generated ones: every builtin with 0..4 arguments of each kind, nested
# calls, tuples, macros, casts, long and deep expressions.  One program a
# file named by its SHA-1, so rerunning it adds nothing twice.  Positional
# parameters use fuzz-util.h's 0xff 'P' prefix.
#   tests/fuzz/mkcorpus-runner-sema.py [OUTDIR] [COMPATDIR]
import glob
import hashlib
import os
import re
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'tests/fuzz/corpus/runner-sema')
COMPAT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, '../shared/compat')
MAX_BYTES = 4096
progs = []


def add(prog, params=()):
    if not prog or len(prog) > MAX_BYTES:
        return
    data = prog.encode()
    if params:
        data = b'\xffP' + b''.join(p.encode() + b'\0' for p in params) + b'\0' + data
    progs.append(data)


def add_both(prog, params=()):
    """scoped (odd length) and not: fuzz-runner-sema.c"""
    add(prog, params)
    add(prog + ' ', params)


def shell_commands(path):
    """The script's commands, continuation lines joined"""
    text = open(path, encoding='utf-8', errors='replace').read()
    return re.sub(r'\\\n\s*', ' ', text).split('\n')


def from_args(words):
    """-e PROG [PARAMS...] of a runner or bpftrace command line"""
    for i, w in enumerate(words):
        if w == '-e' and i + 1 < len(words):
            params = [p for p in words[i + 2:] if not p.startswith('-') and '$' not in p][:4]
            add(words[i + 1].replace('@WL@', '/bin/true'), params)
            return


for path in sorted(glob.glob(os.path.join(ROOT, 'tests/e2e/exec-user-programs*.sh')) +
                   [os.path.join(ROOT, 'tests/e2e/exec-lang02.sh')]):
    for line in shell_commands(path):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) >= 3 and words[0] == 'same':
            add(words[2].replace('@WL@', '/bin/true'))
        elif words and words[0] in ('expect', 'refuse', 'same'):
            from_args(words)

for path in sorted(glob.glob(os.path.join(COMPAT, 'bpftrace-runtime/*'))):
    if os.path.isdir(path):
        for bt in sorted(glob.glob(os.path.join(path, '*.bt'))):
            add(open(bt, encoding='utf-8', errors='replace').read())
        continue
    for line in open(path, encoding='utf-8', errors='replace'):
        if line.startswith('PROG '):
            add(line[5:].rstrip('\n'))
        elif line.startswith('RUN '):
            try:
                from_args(shlex.split(line[4:].replace('{{BPFTRACE}}', 'bpftrace')))
            except ValueError:
                pass

# ---- generated: the builtins, with arguments of every kind -------------------
FUNCS = ('avg bswap buf cat cgroup_path cgroupid clear count delete exit has_key hist join '
         'kstack ksym len lhist max min ntop print printf pton reg sizeof stats str strftime '
         'strncmp sum time ustack usym zero kaddr uaddr macaddr signal system override '
         'strcontains system cgroup_path unwatch').split()
IDENTS = ('args cgroup comm cpid cpu ctx curtask elapsed func gid kstack nsecs numaid pid probe '
          'rand retval tid uid username ustack arg0 arg5 arg6 sarg0 $1 $# @ @m $x').split()
KINDS = ['1', '-1', '0xffffffffffffffff', '"s"', '""', '@m', '@m[1]', '@h', '$x', '$s', 'comm',
         'pid', '(1, "a")', 'args->filename', 'args->comm', 'arg0', 'kstack', '$1',
         '(uint8)1', 'nsecs * 2', 'str(arg0)', 'curtask', '@', 'probe']
SETUP = '$x = 1; $s = "str"; @m[1] = 1; @h = hist(1); '
CTX = ['BEGIN', 'tracepoint:syscalls:sys_enter_openat', 'kprobe:vfs_read', 'uprobe:/bin/true:main',
       'usdt:/bin/true:p:n', 'interval:s:1', 'END']

for i, f in enumerate(FUNCS):
    ctx = CTX[i % len(CTX)]
    add('%s { %s(); }' % (ctx, f))
    add('BEGIN { @r = %s(); }' % f)
    for n, step in ((1, 2), (2, 6), (3, 8), (4, 12)):
        for k in range(0, len(KINDS), step):
            args = ', '.join(KINDS[(k + j * 5) % len(KINDS)] for j in range(n))
            if k % 2:
                add('%s { %s%s(%s); }' % (CTX[(i + k) % len(CTX)], SETUP, f, args))
            else:
                add('%s { @v = %s(%s); }' % (CTX[(i + k) % len(CTX)], f, args))
for i, b in enumerate(IDENTS):
    add('%s { printf("%%d\\n", %s); @[%s] = count(); $v = %s; print($v); }' % (CTX[i % len(CTX)], b, b, b))
    add('%s { @s[%s, %s] = sum(1); $t = (%s, %s); }' % (CTX[(i + 3) % len(CTX)], b, b, b, b))

# nested calls and aggregations of aggregations
for outer in ('ntop', 'str', 'hist', 'count', 'sum', 'print', 'len', 'ksym', 'usym', 'buf',
              'join', 'strftime', 'bswap', 'sizeof', 'cgroup_path'):
    for inner in ('pton', 'str', 'hist', 'count', 'ntop', 'buf', 'kstack', 'ustack', 'sizeof', 'cgroupid'):
        add('BEGIN { @x = %s(%s()); }' % (outer, inner))
        add('kprobe:f { $y = %s(%s("1.2.3.4"), %s(arg1, 2)); }' % (outer, inner, inner))
add('BEGIN { printf("%s\\n", ntop(pton("127.0.0.1"))); printf("%s\\n", ntop(pton("::1"))); }')
add('BEGIN { print(str(str(str("a")))); }')
add('BEGIN { @ = hist(hist(1)); }')
add('BEGIN { @ = count(count()); }')
add('BEGIN { @a = lhist(1, 0, 10, 1); @b = lhist(1, 10, 0, 1); @c = lhist(1, 0, 10, 0); @d = lhist(); }')

# tuples
add('BEGIN { $t = (1, (2, (3, (4, (5, "x"))))); print($t.1.1.1.1.1); @t[$t] = $t; }')
add('BEGIN { $t = (1, "a"); $t = (2, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); $t = ("c", 3); }')
add('BEGIN { @t = (1, 2); @t = (1, 2, 3); print(@t.5); $e = ().0; }')
add('BEGIN { $t = (kstack, ustack, comm, curtask, (uint8)1, -1); @[$t] = count(); print(@); }')
add('BEGIN { @m[(1, "a"), 2] = 1; @m[1, "a", 2] = 2; $x = @m[(1, "a"), 2].0; }')

# macros, casts, pointers
add('#define A 1\n#define B(x) ((x) + A)\nBEGIN { printf("%d\\n", B(B(B(2)))); }')
add('#define R(x) R(x)\nBEGIN { R(1); }')
add('#define S "str"\n#define P(x) printf(S x)\nBEGIN { P("\\n"); }')
add('BEGIN { $p = (struct task_struct *)curtask; printf("%d\\n", $p->pid); $q = *$p; @c[$p->comm] = count(); }')
add('kprobe:vfs_read { $f = (struct file *)arg0; print($f->f_path.dentry->d_name.name); print(str($f->f_path.dentry->d_name.name)); }')
add('BEGIN { $a = (int64 *)0; print(*$a); print($a[1]); print((uint8)$a); print(sizeof(struct task_struct)); }')
add('BEGIN { print((int8)(int16)(int32)(int64)(uint8)(uint16)(uint32)(uint64)-1); $x = (struct nosuch *)0; }')
add('tracepoint:syscalls:sys_enter_openat { print(args); print(*args); $a = args; @[args->nosuch] = count(); }')
add('tracepoint:syscalls:sys_enter_execve { join(args->argv); join(args->argv, ","); printf("%s\\n", str(args->filename)); }')
add('uprobe:/bin/true:main { join(arg1); } kprobe:f { join(arg0, ""); } tracepoint:a:b { join(args->argv, "x", 1); join(args->filename); join(args->comm); }')
add('BEGIN { printf("%d\\n", cpid); @[cpid] = count(); } tracepoint:a:b /pid == cpid/ { exit(); }')
add('tracepoint:a:b,tracepoint:c:d,kprobe:x,BEGIN { printf("%s %s\\n", probe, func); @[probe] = count(); }')

# kernel types (BTF): members, arrays, indexes, enums, sizeof, copies; both
# scoped and not (BEGIN may not read memory under a scope)
add_both('BEGIN { $t = curtask; printf("%s %d\\n", $t->comm, $t->pid); print($t->comm[0]); print(curtask->comm[15]); print(curtask->comm[16]); print(curtask->comm[-1]); }')
add_both('kprobe:f { $t = (struct task_struct *)arg0; @c[$t->comm] = count(); @s = $t->comm; print(@s[0]); $x = $t->se; print($x.vruntime); }')
add_both('BEGIN { $a = curtask->comm; print($a[1]); print($a[$1]); @m = curtask->comm; print(@m[2]); }', ('3',))
add_both('BEGIN { print(curtask->real_parent->real_parent->pid); print(*curtask->real_parent); print(curtask->mm->mmap_base); print(&curtask->pid); }')
add_both('BEGIN { $p = (uint64 *)curtask; print($p[0]); print($p[$1]); print(*($p + 1)); $q = (int8 *)0; print($q[-1]); }', ('2',))
add_both('kprobe:f { $sk = (struct sock *)arg0; print(ntop($sk->__sk_common.skc_daddr)); print(ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8)); print(bswap($sk->__sk_common.skc_dport)); }')
add_both('BEGIN { print(sizeof(struct task_struct)); print(sizeof(curtask->comm)); print(sizeof(int8)); print(sizeof($x)); print(sizeof(curtask)); }')
add_both('BEGIN { print(TASK_RUNNING); print(BPF_MAP_TYPE_HASH); @[BPF_ANY] = 1; }')
add_both('BEGIN { print(str($1, 2)); print(str($1, $2)); print(str($1, -1)); print(str($2, 100)); print(str($1, 0)); }', ('hello', '3'))
add_both('#include <linux/sched.h>\n#include "nosuch.h"\nBEGIN { }')
add_both('#include <linux/sched.h>\nBEGIN { print(curtask->pid); }')
add_both('BEGIN { print(buf(curtask->comm)); print(buf(curtask->comm, 4)); print(buf(curtask->comm, 100)); print(buf(curtask->comm, $1)); }', ('8',))
add_both('tracepoint:a:b { print(args->comm[0]); print(args->argv[1]); print(str(args->argv[0])); print(*args->filename); print(args->s); print(args->args[1]); print(args->ptr); print(*args->ptr); }')
add_both('kprobe:f { $u = (struct sockaddr_in *)arg1; print(ntop(2, $u->sin_addr.s_addr)); print(ntop(10, 1)); print(ntop(arg0)); }')
add_both('BEGIN { @m[1] = curtask->comm; for ($kv : @m) { print($kv.1[0]); print(curtask->pid); } }')
add_both('BEGIN { $t = (curtask->comm, curtask->se); @t[1] = $t; print(@t[1].0[0]); print(@t[1].1.vruntime); }')
add_both('BEGIN { $u = (union bpf_attr *)0; print($u->map_type); $e = (enum bpf_map_type)1; print($e); }')
add_both('BEGIN { $b = (struct task_struct *)(struct task_struct *)curtask; print($b->pid + curtask->tgid * 2); print(curtask == 0); print(curtask->pid == "x"); $c = (struct task_struct)0; }')
add_both('tracepoint:a:b,tracepoint:c:d,tracepoint:e:f { @[probe] = count(); printf("%s\\n", probe); }')
add_both('tracepoint:a:*,tracepoint:*:b,kprobe:vfs_*,uprobe:/bin/true:* { @[probe, func] = count(); }')

# long and deep expressions
add('BEGIN { $x = ' + ' + '.join(str(i) for i in range(400)) + '; }')
add('BEGIN { $x = ' + '(' * 60 + '1' + ')' * 60 + '; }')
add('BEGIN { $x = ' + '-' * 100 + '1; }')
add('BEGIN { $x = ' + '!' * 100 + '1; }')
add('BEGIN { @x = ' + 'str(' * 30 + '"a"' + ')' * 30 + '; }')
add('BEGIN { ' + ''.join('if (%d) { ' % i for i in range(40)) + 'exit();' + ' }' * 40 + ' }')
add('BEGIN { ' + ' '.join('@m%d[%d] = %d;' % (i, i, i) for i in range(300)) + ' }')
add('BEGIN { ' + ' '.join('$v%d = "%s";' % (i, 'x' * i) for i in range(100)) + ' }')
add('BEGIN { printf("' + '%d ' * 70 + '\\n", ' + ', '.join('1' for _ in range(70)) + '); }')
add('BEGIN { @s = "' + 'x' * 3000 + '"; }')
add('BEGIN { $a = 1 ? 2 ? 3 ? 4 : 5 : 6 : 7; $b = 1 < 2 < 3 == 4 != 5; $c = 1 << 70; $d = 1 / 0; $e = 1 % 0; }')
add('BEGIN { @[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] = 1; }')
add('BEGIN { for ($kv : @m) { print($kv.0); } for ($i : 0..10) { @[$i] = 1; } for ($i : 10..0) {} }')
add('BEGIN { @m[1] = 1; for ($kv : @m) { for ($kv2 : @m) { print(($kv, $kv2)); } } print(len(@m)); }')
add('BEGIN { unroll(0) {} unroll(101) {} unroll(100) { $x++; } }')
add('BEGIN { $x = 1; $x = "a"; let $y; let $z: int = 1; }')
add('BEGIN { printf("%s %d %c %p %lx %-5s %5.2s %%\\n", 1, "a", "b", 1, "c", 2, 3); }')
add('BEGIN { printf(); printf(1); printf("%d"); printf("%d", 1, 2); }')
add('BEGIN { exit(1, 2); exit("a"); exit(@m); }')
add('BEGIN { @x = $1; @y = str($2); @z = $#; printf("%s\\n", str($1)); }', ('1', 'abc'))
add('uprobe:$1:$2 { @[str($3)] = count(); }', ('/bin/true', 'main', 'x'))
add('BEGIN { print(($1, $2, $3, $4, $5)); }', ('', 'x' * 200, '-1', '0x10'))

os.makedirs(OUT, exist_ok=True)
seen = set()
for data in progs:
    name = hashlib.sha1(data).hexdigest()
    if name in seen:
        continue
    seen.add(name)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
print('%d programs, %d bytes in %s' % (len(seen), sum(len(d) for d in set(progs)), OUT), file=sys.stderr)
