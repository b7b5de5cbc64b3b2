package dev.latent.blas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.latent.kernel.KernelThreads;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenBLAS shared library, loaded once per JVM on first use.
 *
 * <p>JavaCPP's OpenBLAS preset only extracts and loads the library (and its libgfortran/libquadmath
 * companions) from the {@code org.bytedeco:openblas:...:linux-x86_64} jar into its cache
 * ({@code ~/.javacpp/cache}); the path it reports for the {@code openblas*} library is then opened with
 * {@link SymbolLookup#libraryLookup(Path, Arena)} and every function is called through an FFM downcall
 * handle, so GEMM runs directly on our memory segments with no copy and no JNI wrapper.
 *
 * <p>The thread count is set once, at load, to {@link KernelThreads#count()}. {@code OPENBLAS_CORETYPE}
 * and {@code OPENBLAS_L2_SIZE} are left as the environment sets them.
 *
 * <p>Every accessor here is safe to call when the library could not load: {@link #unavailableReason()}
 * says why in one line, and the others return "unavailable" values instead of throwing.
 */
public final class OpenBlas {

    /** {@code CblasRowMajor}. */
    static final int ROW_MAJOR = 101;
    /** {@code CblasNoTrans}. */
    static final int NO_TRANS = 111;
    /** {@code CblasTrans}. */
    static final int TRANS = 112;

    private OpenBlas() {
    }

    /** Empty when OpenBLAS loaded and every symbol was found; otherwise one actionable line saying why not. */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(Holder.STATE.failure);
    }

    /** Whether the library loaded. */
    public static boolean available() {
        return Holder.STATE.failure == null;
    }

    /** {@code openblas_get_corename()}, e.g. "Cooperlake" or "Haswell"; "unavailable" if not loaded. */
    public static String coreName() {
        Lib lib = Holder.STATE.lib;
        return lib == null ? "unavailable" : lib.coreName;
    }

    /** {@code openblas_get_config()}, e.g. "OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=..."; "unavailable" if not loaded. */
    public static String config() {
        Lib lib = Holder.STATE.lib;
        return lib == null ? "unavailable" : lib.config;
    }

    /** {@code openblas_get_num_threads()} now; 0 if not loaded. */
    public static int threads() {
        Lib lib = Holder.STATE.lib;
        if (lib == null) {
            return 0;
        }
        try {
            return (int) lib.getNumThreads.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_get_num_threads failed", t);
        }
    }

    /** The path of the shared library that was opened; empty if not loaded. */
    public static Optional<Path> libraryPath() {
        Lib lib = Holder.STATE.lib;
        return lib == null ? Optional.empty() : Optional.of(lib.path);
    }

    /** What {@code latent info} prints about the library (empty map values never occur). */
    public static Map<String, String> details() {
        Lib lib = Holder.STATE.lib;
        if (lib == null) {
            return Map.of("blas", "unavailable", "reason", Holder.STATE.failure);
        }
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        return Map.of(
                "blas", lib.config,
                "blas core", lib.coreName,
                "threads", Integer.toString(threads()),
                "OPENBLAS_CORETYPE", coretype == null ? "(unset)" : coretype,
                "OPENBLAS_THREAD_TIMEOUT", threadTimeout,
                "bf16 gemm", lib.sbgemm ? "cblas_sbgemm exported" : "none (cblas_sbgemm not exported: built without BUILD_BFLOAT16)",
                "library", lib.path.toString());
    }

    /** The loaded library; throws with the one-line reason when it did not load. */
    static Lib lib() {
        State s = Holder.STATE;
        if (s.lib == null) {
            throw new IllegalStateException("OpenBLAS is unavailable: " + s.failure);
        }
        return s.lib;
    }

    /** The downcall handles. */
    static final class Lib {
        final Path path;
        /** cblas_sgemm, ordinary downcall (thread-state transition; fine for long calls). */
        final MethodHandle sgemm;
        /** cblas_sgemm as a critical downcall: no thread-state transition, for short calls only. */
        final MethodHandle sgemmCritical;
        final MethodHandle getNumThreads;
        final String coreName;
        final String config;
        /** Whether the library exports cblas_sbgemm (bf16 GEMM; only builds with BUILD_BFLOAT16=1 do). */
        final boolean sbgemm;

        Lib(Path path, MethodHandle sgemm, MethodHandle sgemmCritical, MethodHandle getNumThreads,
            String coreName, String config, boolean sbgemm) {
            this.path = path;
            this.sgemm = sgemm;
            this.sgemmCritical = sgemmCritical;
            this.getNumThreads = getNumThreads;
            this.coreName = coreName;
            this.config = config;
            this.sbgemm = sbgemm;
        }
    }

    private record State(Lib lib, String failure) {
    }

    private static final class Holder {
        static final State STATE = load();
    }

    /** The idle-spin exponent latent gives OpenBLAS's workers when the user has not chosen one. */
    static final String THREAD_TIMEOUT = "16";

    private static State load() {
        String step = "setting OPENBLAS_THREAD_TIMEOUT";
        try {
            threadTimeout = shortenIdleSpin();
            step = "extracting the library with JavaCPP";
            Path path = locate();
            step = "opening " + path;
            SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
            Linker linker = Linker.nativeLinker();
            step = "binding OpenBLAS symbols in " + path;
            FunctionDescriptor sgemmDesc = FunctionDescriptor.ofVoid(
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
                    JAVA_FLOAT, ADDRESS, JAVA_INT);
            MemorySegment sgemmSym = find(lookup, "cblas_sgemm", path);
            MethodHandle sgemm = linker.downcallHandle(sgemmSym, sgemmDesc);
            MethodHandle sgemmCritical = linker.downcallHandle(sgemmSym, sgemmDesc, Linker.Option.critical(false));
            MethodHandle setNumThreads = linker.downcallHandle(find(lookup, "openblas_set_num_threads", path),
                    FunctionDescriptor.ofVoid(JAVA_INT));
            MethodHandle getNumThreads = linker.downcallHandle(find(lookup, "openblas_get_num_threads", path),
                    FunctionDescriptor.of(JAVA_INT));
            MethodHandle getCoreName = linker.downcallHandle(find(lookup, "openblas_get_corename", path),
                    FunctionDescriptor.of(ADDRESS));
            MethodHandle getConfig = linker.downcallHandle(find(lookup, "openblas_get_config", path),
                    FunctionDescriptor.of(ADDRESS));
            step = "calling openblas_set_num_threads(" + KernelThreads.count() + ")";
            setNumThreads.invokeExact(KernelThreads.count());
            step = "reading the OpenBLAS core name and configuration";
            String coreName = cString((MemorySegment) getCoreName.invokeExact()).trim();
            String config = cString((MemorySegment) getConfig.invokeExact()).trim();
            boolean sbgemm = lookup.find("cblas_sbgemm").isPresent();
            return new State(new Lib(path, sgemm, sgemmCritical, getNumThreads, coreName, config, sbgemm), null);
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError vme && !(t instanceof StackOverflowError)) {
                throw vme;
            }
            return new State(null, reason(step, t));
        }
    }

    private static volatile String threadTimeout = "(unset)";

    /**
     * OpenBLAS's idle worker threads spin for 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28, about
     * 0.1 s) before they sleep, and the variable is read once, when the library initializes. latent
     * runs its own kernels (im2col, activations, batch norm) on its own threads between GEMM calls,
     * and on 2 cores two spinning OpenBLAS workers halve them: W3 (conv autoencoder) trained at
     * 2,432-2,934 samples/s with the default and 3,781-3,893 with 2^16 cycles (about 18 us), while
     * back-to-back GEMMs (W2) lost nothing (6,231-6,506 against 6,816-7,541). So, unless the user has
     * set the variable, it is set to 16 in the process environment (libc setenv, before the library
     * loads). Returns the value in force.
     */
    private static String shortenIdleSpin() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle getenv = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocateFrom("OPENBLAS_THREAD_TIMEOUT");
            MemorySegment current = (MemorySegment) getenv.invokeExact(name);
            if (!current.equals(MemorySegment.NULL)) {
                return cString(current) + " (from the environment)";
            }
            int rc = (int) setenv.invokeExact(name, a.allocateFrom(THREAD_TIMEOUT), 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(OPENBLAS_THREAD_TIMEOUT) failed");
            }
            return THREAD_TIMEOUT + " (set by latent)";
        }
    }

    /** Lets JavaCPP extract and load OpenBLAS, then finds the path of the OpenBLAS library it loaded. */
    private static Path locate() throws ClassNotFoundException {
        // Loading by name keeps a missing preset jar a catchable error here rather than at class link time.
        Class<?> preset = Class.forName("org.bytedeco.openblas.global.openblas_nolapack");
        org.bytedeco.javacpp.Loader.load(preset);
        Map<String, String> loaded = org.bytedeco.javacpp.Loader.getLoadedLibraries();
        // Keys look like "openblas_nolapack@.0" (the preset's preload) and "jniopenblas_nolapack" (its JNI glue).
        for (Map.Entry<String, String> e : loaded.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("openblas") && e.getValue() != null && Files.isRegularFile(Path.of(e.getValue()))) {
                return Path.of(e.getValue());
            }
        }
        throw new IllegalStateException("JavaCPP loaded no openblas* library (loaded: " + loaded.keySet()
                + "); is -Dorg.bytedeco.openblas.load set to another BLAS?");
    }

    private static MemorySegment find(SymbolLookup lookup, String name, Path path) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException(
                "symbol " + name + " not found in " + path + " (not an OpenBLAS build?)"));
    }

    private static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) {
            return "";
        }
        return p.reinterpret(4096).getString(0);
    }

    private static String reason(String step, Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && (root instanceof ExceptionInInitializerError || root.getMessage() == null)) {
            root = root.getCause();
        }
        String what = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
        String platform = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        String hint;
        if (root instanceof ClassNotFoundException || root instanceof NoClassDefFoundError) {
            hint = "put org.bytedeco:openblas and org.bytedeco:javacpp (1.5.13) on the class path";
        } else if (root instanceof UnsatisfiedLinkError) {
            hint = "add the native jars for this platform (" + platform
                    + "), e.g. org.bytedeco:openblas:0.3.31-1.5.13:linux-x86_64 and org.bytedeco:javacpp:1.5.13:linux-x86_64";
        } else if (root instanceof IllegalCallerException) {
            hint = "run the JVM with --enable-native-access=ALL-UNNAMED";
        } else {
            hint = "platform " + platform;
        }
        return ("failed while " + step + ": " + what + "; " + hint).replace('\n', ' ');
    }
}
