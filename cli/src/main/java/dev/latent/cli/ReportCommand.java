package dev.latent.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code latent report DIR}: rebuilds DIR/report.html from the files a run wrote there (see {@link Report}). */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Rebuild DIR/report.html (one static page: config, few-label table and plot, curves, pictures) from the files in DIR.")
final class ReportCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "A directory written by demo, train, fewlabel or anchors.")
    Path dir;

    @Override
    public Integer call() throws Exception {
        spec.commandLine().getOut().println("wrote " + Report.write(dir));
        return 0;
    }
}
