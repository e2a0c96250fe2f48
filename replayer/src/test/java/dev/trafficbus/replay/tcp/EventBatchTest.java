package dev.trafficbus.replay.tcp;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EventBatchTest {
    @Test
    void oneFailingEventDoesNotSwallowTheRestOfTheBatch() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            EventBatch batch = new EventBatch(loop);
            CountDownLatch later = new CountDownLatch(1);
            batch.add(() -> {
                throw new IllegalStateException("one session's bug");
            });
            batch.add(later::countDown);
            batch.flush();
            assertThat(later.await(5, TimeUnit.SECONDS)).as("the next session's event still ran").isTrue();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
