package dev.trafficbus.replay.intake;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class LoopMailboxTest {
    @Test
    void oneFailingEventDoesNotSwallowTheRestOfTheBatch() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            LoopMailbox batch = new LoopMailbox();
            CountDownLatch later = new CountDownLatch(1);
            batch.post(loop, () -> {
                throw new IllegalStateException("one session's bug");
            });
            batch.post(loop, later::countDown);
            batch.flush();
            assertThat(later.await(5, TimeUnit.SECONDS)).as("the next session's event still ran").isTrue();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
