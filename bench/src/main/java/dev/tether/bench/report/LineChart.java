package dev.tether.bench.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/** A small line chart drawn with Java2D and written as PNG: series of (x, y) points, log-scaled x when it spans decades. */
public final class LineChart {
    private static final int W = 760;
    private static final int H = 420;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final Map<String, TreeMap<Double, Double>> series = new LinkedHashMap<>();
    private boolean logY;

    /** Log-scaled y axis (decades), for values that span orders of magnitude such as latencies. */
    public LineChart logY() {
        this.logY = true;
        return this;
    }

    public LineChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LineChart point(String name, double x, double y) {
        series.computeIfAbsent(name, n -> new TreeMap<>()).put(x, y);
        return this;
    }

    public void write(Path png) throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double maxY = 0;
        for (TreeMap<Double, Double> s : series.values()) {
            for (var e : s.entrySet()) {
                minX = Math.min(minX, e.getKey());
                maxX = Math.max(maxX, e.getKey());
                maxY = Math.max(maxY, e.getValue());
            }
        }
        if (series.isEmpty()) {
            minX = 0;
            maxX = 1;
        }
        boolean logX = minX > 0 && maxX / minX >= 20;
        double x0 = logX ? Math.log10(minX) : Math.min(0, minX);
        double x1 = logX ? Math.log10(maxX) : maxX;
        if (x1 <= x0) {
            x1 = x0 + 1;
        }
        double minY = Double.MAX_VALUE;
        for (TreeMap<Double, Double> s : series.values()) {
            for (double v : s.values()) {
                if (v > 0) {
                    minY = Math.min(minY, v);
                }
            }
        }
        boolean log = logY && minY != Double.MAX_VALUE;
        double y0 = log ? Math.floor(Math.log10(minY)) : 0;
        double y1 = log ? Math.max(y0 + 1, Math.ceil(Math.log10(maxY))) : 0;
        maxY = niceCeil(maxY <= 0 ? 1 : maxY * 1.1);
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawLine(LEFT, TOP + ph, LEFT + pw, TOP + ph);
        g.drawLine(LEFT, TOP, LEFT, TOP + ph);
        int ticks = log ? (int) (y1 - y0) : 5;
        for (int i = 0; i <= ticks; i++) {
            double v = log ? Math.pow(10, y0 + i) : maxY * i / 5;
            int y = TOP + ph - (int) (ph * i / (double) ticks);
            g.setColor(new Color(0xdddddd));
            g.drawLine(LEFT + 1, y, LEFT + pw, y);
            g.setColor(Color.BLACK);
            String t = format(v);
            g.drawString(t, LEFT - 8 - g.getFontMetrics().stringWidth(t), y + 4);
        }
        java.util.TreeSet<Double> xs = new java.util.TreeSet<>();
        series.values().forEach(s -> xs.addAll(s.keySet()));
        for (double x : xs) {
            int px = LEFT + (int) (pw * ((logX ? Math.log10(x) : x) - x0) / (x1 - x0));
            g.drawLine(px, TOP + ph, px, TOP + ph + 4);
            String t = format(x);
            g.drawString(t, px - g.getFontMetrics().stringWidth(t) / 2, TOP + ph + 18);
        }
        g.drawString(xLabel + (logX ? " (log scale)" : ""), LEFT + pw / 2 - 60, H - 15);
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel + (log ? " (log scale)" : ""), -(TOP + ph / 2 + 60), 20);
        g.rotate(Math.PI / 2);
        int k = 0;
        for (var e : series.entrySet()) {
            Color c = COLORS[k % COLORS.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2.2f));
            int[] prev = null;
            for (var p : e.getValue().entrySet()) {
                int px = LEFT + (int) (pw * ((logX ? Math.log10(p.getKey()) : p.getKey()) - x0) / (x1 - x0));
                double frac = log ? (Math.log10(Math.max(p.getValue(), Math.pow(10, y0))) - y0) / (y1 - y0)
                        : p.getValue() / maxY;
                int py = TOP + ph - (int) (ph * frac);
                g.fillOval(px - 4, py - 4, 8, 8);
                if (prev != null) {
                    g.drawLine(prev[0], prev[1], px, py);
                }
                prev = new int[] {px, py};
            }
            g.fillRect(LEFT + pw - 160, TOP + 8 + 18 * k, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), LEFT + pw - 140, TOP + 17 + 18 * k);
            k++;
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String format(double v) {
        if (v >= 1_000_000) {
            return trim(v / 1_000_000) + "M";
        }
        if (v >= 10_000) {
            return trim(v / 1000) + "k";
        }
        return trim(v);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format("%.3f", v).replaceAll("0+$", "");
    }
}
