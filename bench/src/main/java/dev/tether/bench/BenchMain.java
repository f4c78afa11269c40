package dev.tether.bench;

/** {@code java -cp tether-bench.jar dev.tether.bench.BenchMain fanout ...}: the suite without the tether launcher. */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.exit(BenchCommand.commandLine().execute(args));
    }
}
