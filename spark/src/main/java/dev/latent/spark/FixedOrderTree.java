package dev.latent.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * A tree reduction whose order of additions is fixed by partition index, so that floating-point sums
 * (k-means partial sums, whitening statistics) are the same bits on every run. Spark's
 * {@code treeAggregate} combines partial results in the order tasks finish; this one groups partitions
 * {@code fanout} at a time by index (level by level, as treeAggregate's depth does, with one shuffle per
 * level), combines each group in index order, and finishes on the driver in index order. With one
 * partition the result is that partition's value unchanged.
 */
final class FixedOrderTree {

    /** Partitions combined per tree node; up to this many partials go straight to the driver. */
    static final int FANOUT = 16;

    private FixedOrderTree() {
    }

    /** A combine that may reuse (and return) its left argument. */
    interface Combine<T> extends Function2<T, T, T>, Serializable {
    }

    /** The values of {@code perPartition} (one per partition, as produced by a mapPartitions) combined in index order. */
    static <T> T reduce(JavaRDD<T> perPartition, Combine<T> combine) {
        JavaPairRDD<Integer, T> level = perPartition.mapPartitionsWithIndex((index, it) -> {
            List<Tuple2<Integer, T>> out = new ArrayList<>(1);
            T acc = null;
            while (it.hasNext()) {
                T v = it.next();
                acc = acc == null ? v : combine.call(acc, v);
            }
            if (acc != null) {
                out.add(new Tuple2<>(index, acc));
            }
            return out.iterator();
        }, true).mapToPair(t -> t);
        int nodes = perPartition.getNumPartitions();
        while (nodes > FANOUT) {
            int parents = (nodes + FANOUT - 1) / FANOUT;
            level = level.mapToPair(t -> new Tuple2<>(t._1() / FANOUT, t)).groupByKey(parents)
                    .mapToPair(g -> new Tuple2<>(g._1(), inOrder(g._2().iterator(), combine)));
            nodes = parents;
        }
        List<Tuple2<Integer, T>> top = new ArrayList<>(level.collect());
        top.sort(Comparator.comparing(Tuple2::_1));
        if (top.isEmpty()) {
            throw new IllegalArgumentException("latent-spark: no partition produced a value (empty input)");
        }
        T acc = top.getFirst()._2();
        for (int i = 1; i < top.size(); i++) {
            try {
                acc = combine.call(acc, top.get(i)._2());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return acc;
    }

    private static <T> T inOrder(Iterator<Tuple2<Integer, T>> group, Combine<T> combine) throws Exception {
        List<Tuple2<Integer, T>> g = new ArrayList<>();
        group.forEachRemaining(g::add);
        g.sort(Comparator.comparing(Tuple2::_1));
        T acc = g.getFirst()._2();
        for (int i = 1; i < g.size(); i++) {
            acc = combine.call(acc, g.get(i)._2());
        }
        return acc;
    }
}
