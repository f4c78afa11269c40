package dev.tether.bench.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a process's CPU time and resident memory from /proc (Linux). */
public final class ProcStats {
    /** USER_HZ: /proc reports CPU time in these ticks. */
    public static final long TICKS_PER_SECOND = 100;

    private ProcStats() {
    }

    /** utime + stime of {@code pid} (all its threads) in clock ticks; -1 if unreadable. */
    public static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * CPU time in nanoseconds of the threads of {@code pid} whose name starts with {@code prefix}
     * (Linux keeps the first 15 characters of a thread's name); -1 if unreadable or if no thread has
     * that name. Read from each thread's {@code schedstat} (the scheduler's own run-time count), not
     * {@code stat}: the latter's 10 ms ticks are 0.02 % of a core over a 50 s window, as coarse as
     * the differences the heartbeat row looks for. Only live threads are counted, which is right for
     * event loops, and why the whole-process figure stays on {@link #cpuTicks}.
     */
    public static long threadCpuNanos(long pid, String prefix) {
        long sum = 0;
        int found = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String name;
                String schedstat;
                try {
                    name = Files.readString(task.resolve("comm")).strip();
                    schedstat = Files.readString(task.resolve("schedstat"));
                } catch (IOException gone) {
                    continue; // the thread ended while we looked
                }
                if (name.startsWith(prefix)) {
                    found++;
                    // "<ns on CPU> <ns waiting to run> <times run>"
                    sum += Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
                }
            }
            // All zeros: the kernel keeps no scheduler statistics (CONFIG_SCHED_INFO off), so unknown.
            return found == 0 || sum == 0 ? -1 : sum;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** VmRSS of {@code pid} in KiB; -1 if unreadable. */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Open file descriptors of {@code pid}; -1 if unreadable. */
    public static long openFiles(long pid) {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
