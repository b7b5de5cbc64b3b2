package dev.latent.bench.peer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * The ONNX Runtime peer of {@code latent bench encode}: runs an exported encoder (latent's own ONNX
 * file) in-process through ORT's Java API, CPU execution provider, all graph optimizations, a given
 * intra-op thread count and one inter-op thread (the graph is a chain: nothing runs in parallel
 * across nodes). The input tensor wraps a direct buffer created once per batch size, so a call is
 * what a service would do with ORT: {@code session.run}, read the output, close the result.
 */
public final class OrtPeer implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final String input;
    private final int inputSize;

    public OrtPeer(Path onnx, int intraOpThreads, int inputSize) throws OrtException {
        this.options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setIntraOpNumThreads(intraOpThreads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        this.session = env.createSession(onnx.toString(), options);
        this.input = session.getInputNames().iterator().next();
        this.inputSize = inputSize;
    }

    /** A reusable call on {@code rows} rows copied from {@code x} (rows x inputSize, row-major). */
    public Call call(float[] x, int rows) throws OrtException {
        FloatBuffer buf = ByteBuffer.allocateDirect(rows * inputSize * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buf.put(x, 0, rows * inputSize).flip();
        return new Call(OnnxTensor.createTensor(env, buf, new long[] {rows, inputSize}));
    }

    /** One prepared input; {@link #run} runs the session on it and copies the codes into {@code out}. */
    public final class Call implements AutoCloseable {
        private final OnnxTensor tensor;
        private final Map<String, OnnxTensor> feed;

        private Call(OnnxTensor tensor) {
            this.tensor = tensor;
            this.feed = Map.of(input, tensor);
        }

        public void run(float[] out) throws OrtException {
            try (OrtSession.Result r = session.run(feed)) {
                ((OnnxTensor) r.get(0)).getFloatBuffer().get(out);
            }
        }

        @Override
        public void close() {
            tensor.close();
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
        options.close();
    }
}
