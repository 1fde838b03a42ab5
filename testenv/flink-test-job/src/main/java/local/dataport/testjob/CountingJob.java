package local.dataport.testjob;

import java.util.HashSet;
import java.util.Set;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dataport's Flink test job: numbers 0, 1, 2, ... at a steady rate, keyed by {@code n % keys}, and
 * for each key a running count and sum in {@link ValueState}. A restore from a savepoint or
 * checkpoint is observable: the count of a key goes on from the restored value instead of
 * starting at 1, and the source goes on from the restored position.
 *
 * <p>Arguments (all optional): {@code --keys N} (default 3), {@code --delay-ms N} between two
 * numbers (default 100, i.e. about 10 a second), {@code --log-every N} (default 10),
 * {@code --checkpoint-ms N} (checkpoint every N ms, for a cluster whose configuration sets no
 * interval: into the JobManager's memory unless it configures a checkpoint storage; also turns
 * on Flink's default restart strategy, exponential-delay, which needs checkpointing), and
 * {@code --fail-after-ms N} (every run of the job fails N ms after its first record, so its
 * restarts rise for as long as it is left so).
 *
 * <p>What it shows: the TaskManager log gets one line per key and run, {@code dataport-test-job
 * first key=K count=C sequence=S} (C = 1 on a fresh start, C &gt; 1 after a restore), and one
 * {@code dataport-test-job key=K count=C sum=S sequence=S} every {@code --log-every} records of a
 * key; the operator {@code count-per-key} has the gauges {@code maxCount} (the highest count any
 * key reached in this subtask) and {@code lastSequence}. Checkpointing is left to the cluster's
 * configuration ({@code execution.checkpointing.interval}), as an operator-managed job's is.
 *
 * <p>Only APIs present in Flink 1.20 and 2.0: {@code fromSequence} (the FLIP-27
 * NumberSequenceSource, whose position is checkpointed; the SourceFunction API is gone in 2.0),
 * {@code open(OpenContext)} (1.19+; {@code open(Configuration)} is gone in 2.0) and the Sink V2
 * {@code DiscardingSink} ({@code addSink} is gone in 2.0).
 */
public final class CountingJob {
    private static final Logger LOG = LoggerFactory.getLogger(CountingJob.class);

    private CountingJob() {}

    public static void main(String[] args) throws Exception {
        int keys = 3;
        long delayMs = 100;
        long logEvery = 10;
        long checkpointMs = 0;
        long failAfterMs = -1;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--keys" -> keys = Integer.parseInt(required(args[i], value));
                case "--delay-ms" -> delayMs = Long.parseLong(required(args[i], value));
                case "--log-every" -> logEvery = Long.parseLong(required(args[i], value));
                case "--checkpoint-ms" -> checkpointMs = Long.parseLong(required(args[i], value));
                case "--fail-after-ms" -> failAfterMs = Long.parseLong(required(args[i], value));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --keys N, --delay-ms N, --log-every N, --checkpoint-ms N,"
                        + " --fail-after-ms N)");
            }
            i++;
        }
        if (keys < 1 || delayMs < 0 || logEvery < 1 || checkpointMs < 0 || failAfterMs < -1) {
            throw new IllegalArgumentException("--keys and --log-every must be >= 1, --delay-ms,"
                    + " --checkpoint-ms and --fail-after-ms >= 0");
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (checkpointMs > 0) {
            env.enableCheckpointing(checkpointMs);
        }
        // Stable uids: a savepoint maps its state to operators by them.
        env.fromSequence(0, Long.MAX_VALUE / 2).uid("sequence").name("sequence")
                .map(new Throttle(delayMs, failAfterMs)).uid("throttle").name("throttle")
                .keyBy(new ByRemainder(keys))
                .process(new CountPerKey(logEvery)).uid("count-per-key").name("count-per-key")
                .sinkTo(new DiscardingSink<>()).uid("discard").name("discard");
        env.execute("dataport-test-job");
    }

    private static String required(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }

    /**
     * Passes each number on after a pause, so the unbounded sequence runs at a steady rate; with
     * {@code failAfterMs} at 0 or more, fails that long after its first number in each run.
     */
    static final class Throttle implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long delayMs;
        private final long failAfterMs;
        /** When this run saw its first number (0: not yet); a restart starts a new instance. */
        private transient long startedMs;

        Throttle(long delayMs, long failAfterMs) {
            this.delayMs = delayMs;
            this.failAfterMs = failAfterMs;
        }

        @Override
        public Long map(Long n) throws Exception {
            long now = System.currentTimeMillis();
            if (startedMs == 0) {
                startedMs = now;
            }
            if (failAfterMs >= 0 && now - startedMs >= failAfterMs) {
                throw new IllegalStateException("dataport-test-job failing on purpose ("
                        + "--fail-after-ms " + failAfterMs + ")");
            }
            if (delayMs > 0) {
                Thread.sleep(delayMs);
            }
            return n;
        }
    }

    static final class ByRemainder implements KeySelector<Long, Integer> {
        private static final long serialVersionUID = 1L;
        private final int keys;

        ByRemainder(int keys) {
            this.keys = keys;
        }

        @Override
        public Integer getKey(Long n) {
            return (int) (n % keys);
        }
    }

    /** Count and sum per key in keyed state; emits and logs them. */
    static final class CountPerKey extends KeyedProcessFunction<Integer, Long, String> {
        private static final long serialVersionUID = 1L;
        private final long logEvery;
        private transient ValueState<Long> count;
        private transient ValueState<Long> sum;
        private transient Set<Integer> seen;
        private transient volatile long maxCount;
        private transient volatile long lastSequence;

        CountPerKey(long logEvery) {
            this.logEvery = logEvery;
        }

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            sum = getRuntimeContext().getState(new ValueStateDescriptor<>("sum", Long.class));
            seen = new HashSet<>();
            lastSequence = -1;
            getRuntimeContext().getMetricGroup().gauge("maxCount", (Gauge<Long>) () -> maxCount);
            getRuntimeContext().getMetricGroup().gauge("lastSequence", (Gauge<Long>) () -> lastSequence);
        }

        @Override
        public void processElement(Long n, Context ctx, Collector<String> out) throws Exception {
            long c = (count.value() == null ? 0 : count.value()) + 1;
            long s = (sum.value() == null ? 0 : sum.value()) + n;
            count.update(c);
            sum.update(s);
            maxCount = Math.max(maxCount, c);
            lastSequence = n;
            Integer key = ctx.getCurrentKey();
            if (seen.add(key)) {
                LOG.info("dataport-test-job first key={} count={} sequence={}", key, c, n);
            }
            if (c % logEvery == 0) {
                LOG.info("dataport-test-job key={} count={} sum={} sequence={}", key, c, s, n);
                out.collect("key=" + key + " count=" + c + " sum=" + s);
            }
        }
    }
}
