package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.eval.FewLabel;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * report.html in a real browser: a run directory (few-label results, per-epoch metrics, pictures) is
 * turned into the page, which Debian's chromium (headless, through its chromedriver) must render with
 * every image loaded, every method in the table, one plot per curve, and no console error; a
 * screenshot is written beside it. Needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install
 * chromium chromium-driver; .ci/run installs them).
 */
class ReportTest {

    @Test
    void theReportRendersInChromiumWithEveryImageAndMethod(@TempDir Path dir) throws Exception {
        List<String> methods = List.of("softmax on raw pixels", "MLP 784-196-10 by backprop on the labels alone",
                "softmax on sparse <autoencoder> features & more");
        SplittableRandom r = new SplittableRandom(3);
        List<FewLabel.Result> results = new java.util.ArrayList<>();
        for (int n : new int[] {1, 10, 100}) {
            for (String m : methods) {
                results.add(new FewLabel.Result(m, n, new double[] {0.5 + 0.4 * r.nextDouble(), 0.5 + 0.4 * r.nextDouble()}));
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode root = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        root.set("methods", FewLabel.json(results));
        root.put("kernels", "test");
        Files.writeString(dir.resolve("results.json"), root.toString());
        StringBuilder metrics = new StringBuilder();
        for (int e = 1; e <= 5; e++) {
            metrics.append("{\"epoch\":").append(e).append(",\"train_loss\":").append(10.0 / e).append(",\"val_loss\":").append(12.0 / e)
                    .append(",\"seconds\":0.5}\n");
        }
        Files.writeString(dir.resolve("metrics.jsonl"), metrics);
        try (Workspace ws = new Workspace("report-test")) {
            Tensor images = ws.allocate(20, 64);
            for (long i = 0; i < images.size(); i++) {
                images.set(i, (float) r.nextDouble());
            }
            ImageGrid.images(dir.resolve("reconstructions.png"), images, 8, 8, 10, 2);
            ImageGrid.filters(dir.resolve("filters.png"), images, 8, 8, 10, 2);
            ImageGrid.images(dir.resolve("samples-epoch-002.png"), images, 8, 8, 10, 2);
        }
        Path page = Report.write(dir);
        String html = Files.readString(page);
        for (String m : methods) {
            assertTrue(html.contains(Report.esc(m)), "the page misses method " + m);
        }
        assertTrue(html.contains("Top row: input. Bottom row: reconstruction"), "reconstructions are not labelled");

        ChromeOptions o = new ChromeOptions();
        o.setBinary("/usr/bin/chromium");
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,1800",
                "--user-data-dir=" + dir.resolve("chromium-profile"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new java.io.File("/usr/bin/chromedriver")).build();
        ChromeDriver driver = new ChromeDriver(service, o);
        try {
            driver.get(page.toUri().toString());
            JavascriptExecutor js = driver;
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> imgs = (List<Map<String, Object>>) js.executeScript(
                    "return Array.from(document.images).map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))");
            assertEquals(3, imgs.size(), "images on the page: " + imgs);
            for (Map<String, Object> i : imgs) {
                assertEquals(Boolean.TRUE, i.get("ok"), "image did not load: " + i);
            }
            long rows = (Long) js.executeScript("return document.querySelectorAll('#fewlabel tr').length");
            assertEquals(1 + methods.size(), rows, "table rows (header + one per method)");
            long svgs = (Long) js.executeScript("return document.querySelectorAll('svg').length");
            assertEquals(3, svgs, "one accuracy plot and one plot per curve (train_loss, val_loss)");
            List<LogEntry> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
            assertTrue(errors.isEmpty(), "console errors: " + errors);
            Path shot = dir.resolve("report.png");
            Files.write(shot, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
            assertTrue(Files.size(shot) > 10_000, "screenshot of " + Files.size(shot) + " bytes");
        } finally {
            driver.quit();
        }
    }
}
