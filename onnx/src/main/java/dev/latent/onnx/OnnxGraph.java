package dev.latent.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An ONNX graph under construction, written with the ONNX protobuf classes directly: float32 and int64
 * initializers, nodes of the default domain, one input and one output of shape (batch, n) with a
 * symbolic batch. Every value and initializer gets a name of its own ({@link #unique}).
 */
final class OnnxGraph {

    /** One attribute of a node. */
    record Attr(OnnxMl.AttributeProto proto) {
        static Attr ints(String name, long... values) {
            OnnxMl.AttributeProto.Builder b = OnnxMl.AttributeProto.newBuilder().setName(name)
                    .setType(OnnxMl.AttributeProto.AttributeType.INTS);
            for (long v : values) {
                b.addInts(v);
            }
            return new Attr(b.build());
        }

        static Attr i(String name, long value) {
            return new Attr(OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT)
                    .setI(value).build());
        }

        static Attr f(String name, float value) {
            return new Attr(OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.FLOAT)
                    .setF(value).build());
        }
    }

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();
    private int nodes;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** {@code base}, or base_2, base_3, ... when it is taken. */
    String unique(String base) {
        String n = base;
        for (int i = 2; !names.add(n); i++) {
            n = base + "_" + i;
        }
        return n;
    }

    /** A float32 initializer of shape {@code dims} holding {@code values} (row-major); returns its name. */
    String floats(String name, long[] dims, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return initializer(name, dims, OnnxMl.TensorProto.DataType.FLOAT, b);
    }

    /** A 1-D int64 initializer; returns its name. */
    String longs(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return initializer(name, new long[] {values.length}, OnnxMl.TensorProto.DataType.INT64, b);
    }

    /** A float32 scalar initializer; returns its name. */
    String scalar(String name, float value) {
        return floats(name, new long[0], new float[] {value});
    }

    private String initializer(String name, long[] dims, OnnxMl.TensorProto.DataType type, ByteBuffer data) {
        String n = unique(name);
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(n).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(data.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t.build());
        return n;
    }

    /** A node {@code op} on {@code inputs} ("" for an omitted optional input); returns its output's name. */
    String node(String op, List<String> inputs, Attr... attrs) {
        String out = unique(op.toLowerCase(java.util.Locale.ROOT) + (++nodes));
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(out + ".node").addAllInput(inputs)
                .addOutput(out);
        for (Attr a : attrs) {
            n.addAttribute(a.proto());
        }
        graph.addNode(n.build());
        return out;
    }

    /** The graph's input {@code name}: float32 (batch, size). */
    void input(String name, int size) {
        names.add(name);
        graph.addInput(valueInfo(name, size));
    }

    /** Names {@code value} the graph's output {@code name}, float32 (batch, size), through an Identity node. */
    void output(String value, String name, int size) {
        names.add(name);
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Identity").setName(name + ".node").addInput(value).addOutput(name).build());
        graph.addOutput(valueInfo(name, size));
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, int size) {
        OnnxMl.TensorShapeProto shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(size)).build();
        OnnxMl.TypeProto type = OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setShape(shape)).build();
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    OnnxMl.GraphProto build() {
        return graph.build();
    }
}
