package dev.latent.onnx;

import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import dev.latent.kernel.Activation;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.nn.Param;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXInitializer;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXOperator;
import org.tribuo.util.onnx.ONNXOperators;
import org.tribuo.util.onnx.ONNXPlaceholder;
import org.tribuo.util.onnx.ONNXRef;

/**
 * ONNX export of a dense encoder: the layers of a model file's {@code __metadata__.encoder} (or of an
 * {@link Autoencoder}'s {@link Autoencoder#encoderSpec()}) as an ONNX graph that computes what
 * {@link Encoder} computes. Graph, opset 13 (tribuo-util-onnx's):
 *
 * <pre>
 *   x (batch, in) -> per layer i: Gemm(h, enc_i.weight (out, in), enc_i.bias (out), transB=1) -> activation -> ... -> code (batch, m)
 * </pre>
 *
 * The batch dimension is symbolic ("batch"). Activations map one-to-one: sigmoid -> Sigmoid, tanh ->
 * Tanh, relu -> Relu, leaky_relu:s -> LeakyRelu(alpha=s), softplus -> Softplus, identity -> no node.
 * Weights are stored as float32 initializers named after their model-file tensors. The file is
 * written atomically: a temporary file in the target directory, forced to disk, then renamed.
 */
public final class OnnxExport {

    /** The graph's input name: rows of the encoder's input size. */
    public static final String INPUT = "x";
    /** The graph's output name: the code layer. */
    public static final String OUTPUT = "code";
    /** ONNX IR version 7 is the one that goes with opset 13. */
    static final long IR_VERSION = 7;

    private OnnxExport() {
    }

    /** Exports the encoder of the latent model file {@code modelFile} to {@code onnxFile}. */
    public static void write(Path modelFile, Path onnxFile) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(modelFile, arena);
            ModelFile.requireKind(l, null);
            JsonNode spec = ModelFile.json(l, "encoder");
            OnnxMl.ModelProto model = model(spec, l::tensor, modelFile.toString(), l.metadata().get("latent_version"));
            writeAtomically(model, onnxFile);
        }
    }

    /** Exports the encoder of {@code ae} (its current weights) to {@code onnxFile}. */
    public static void write(Autoencoder ae, Path onnxFile) throws IOException {
        Map<String, Tensor> tensors = new HashMap<>();
        for (Param p : ae.network().params()) {
            tensors.put(p.name(), p.value());
        }
        Function<String, Tensor> lookup = name -> {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalStateException("autoencoder has no parameter '" + name + "' named by its encoder spec");
            }
            return t;
        };
        writeAtomically(model(ae.encoderSpec(), lookup, "autoencoder", null), onnxFile);
    }

    /**
     * The ONNX model of the dense layers in {@code spec}; {@code tensors} resolves tensor names.
     * Errors are {@link BadInputException}s naming {@code source} and the field, as in {@link Encoder#load}.
     */
    static OnnxMl.ModelProto model(JsonNode spec, Function<String, Tensor> tensors, String source, String latentVersion) {
        if (!spec.isArray() || spec.isEmpty()) {
            throw new BadInputException(source + ": __metadata__.encoder must be a non-empty array of layers");
        }
        ONNXContext ctx = new ONNXContext();
        ctx.setName("latent-encoder");
        int in0 = -1;
        int prev = -1;
        ONNXRef<?> h = null;
        for (int i = 0; i < spec.size(); i++) {
            JsonNode s = spec.get(i);
            String where = source + ": __metadata__.encoder[" + i + "]";
            if (!"dense".equals(s.path("type").asText())) {
                throw new BadInputException(where + ".type must be \"dense\" (only dense encoders export), got " + s.get("type"));
            }
            String wName = s.path("weight").asText();
            String bName = s.path("bias").asText();
            Tensor w = tensors.apply(wName);
            if (w.rank() != 2) {
                throw new BadInputException(where + ": weight " + wName + " must be rank 2, has shape " + Tensor.format(w.shape()));
            }
            int out = w.dim(0);
            int in = w.dim(1);
            if (prev >= 0 && in != prev) {
                throw new BadInputException(where + ": weight " + Tensor.format(w.shape()) + " does not take the previous layer's "
                        + prev + " outputs");
            }
            Tensor b = tensors.apply(bName);
            if (b.rank() != 1 || b.dim(0) != out) {
                throw new BadInputException(where + ": bias " + bName + " has shape " + Tensor.format(b.shape()) + ", expected [" + out + "]");
            }
            Activation a;
            try {
                a = Activation.parse(s.path("activation").asText());
            } catch (IllegalArgumentException e) {
                throw new BadInputException(where + ".activation: " + e.getMessage(), e);
            }
            if (h == null) {
                in0 = in;
                h = ctx.floatInput(INPUT, in);
            }
            ONNXInitializer wi = ctx.floatTensor(wName, List.of(out, in), fb -> fb.put(floats(w)));
            ONNXInitializer bi = ctx.floatTensor(bName, List.of(out), fb -> fb.put(floats(b)));
            ONNXNode z = ctx.operation(ONNXOperators.GEMM, List.of(h, wi, bi), "layer" + (i + 1) + ".z", Map.of("transB", 1));
            h = activate(ctx, z, a, "layer" + (i + 1) + "." + a.kind().name().toLowerCase(java.util.Locale.ROOT));
            prev = out;
        }
        ONNXPlaceholder code = ctx.floatOutput(OUTPUT, prev);
        ctx.assignTo(h, code);
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(ONNXOperators.getOpsetProto())
                .setProducerName("latent")
                .setProducerVersion(latentVersion != null ? latentVersion : "unknown")
                .setDomain("dev.latent")
                .setModelVersion(ModelFile.VERSION)
                .setDocString("latent dense encoder: " + in0 + " -> " + prev + ", input '" + INPUT + "', output '" + OUTPUT + "'")
                .setGraph(ctx.buildGraph());
        m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey("latent.encoder").setValue(spec.toString()));
        return m.build();
    }

    /** The float values of t (a view on the mapped file or on the model's parameters). */
    private static java.nio.FloatBuffer floats(Tensor t) {
        return t.segment().asSlice(t.offset() * Float.BYTES, t.size() * Float.BYTES).asByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    private static ONNXRef<?> activate(ONNXContext ctx, ONNXNode z, Activation a, String name) {
        return switch (a.kind()) {
            case IDENTITY -> z;
            case SIGMOID -> ctx.operation(ONNXOperators.SIGMOID, List.of(z), name);
            case TANH -> ctx.operation(ExtraOp.TANH, List.of(z), name);
            case RELU -> ctx.operation(ExtraOp.RELU, List.of(z), name);
            case SOFTPLUS -> ctx.operation(ExtraOp.SOFTPLUS, List.of(z), name);
            case LEAKY_RELU -> ctx.operation(ExtraOp.LEAKY_RELU, List.of(z), name, Map.of("alpha", a.slope()));
        };
    }

    /**
     * Opset-13 activations that tribuo's {@link ONNXOperators} does not list (it covers what Tribuo's
     * own models need); the same one-input, one-output operator description, in the default domain.
     */
    private enum ExtraOp implements ONNXOperator {
        TANH("Tanh", 13, Map.of()),
        RELU("Relu", 13, Map.of()),
        SOFTPLUS("Softplus", 1, Map.of()),
        LEAKY_RELU("LeakyRelu", 6, Map.of("alpha", new ONNXAttribute("alpha", OnnxMl.AttributeProto.AttributeType.FLOAT, false)));

        private final String opName;
        private final int version;
        private final Map<String, ONNXAttribute> attributes;

        ExtraOp(String opName, int version, Map<String, ONNXAttribute> attributes) {
            this.opName = opName;
            this.version = version;
            this.attributes = attributes;
        }

        @Override
        public String getOpName() {
            return opName;
        }

        @Override
        public int getNumInputs() {
            return 1;
        }

        @Override
        public int getNumOptionalInputs() {
            return 0;
        }

        @Override
        public int getNumOutputs() {
            return 1;
        }

        @Override
        public Map<String, ONNXAttribute> getAttributes() {
            return attributes;
        }

        @Override
        public Set<String> getMandatoryAttributeNames() {
            return Set.of();
        }

        @Override
        public int getOpVersion() {
            return version;
        }

        @Override
        public String getOpDomain() {
            return ONNXOperators.SIGMOID.getOpDomain();
        }
    }

    private static void writeAtomically(OnnxMl.ModelProto model, Path file) throws IOException {
        dev.latent.io.AtomicFiles.write(file, tmp -> {
            try (OutputStream os = Files.newOutputStream(tmp)) {
                model.writeTo(os);
            }
        });
    }
}
