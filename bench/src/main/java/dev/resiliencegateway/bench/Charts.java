package dev.resiliencegateway.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

/** Two small line charts per scenario (success % and p99 per second, one line per system), fault window shaded. Plain Java2D. */
final class Charts {

	private static final Color[] COLORS = { new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
			new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b) };

	private Charts() {
	}

	static void write(Path file, String title, List<RunResult> runs) throws IOException {
		int w = 900, h = 560;
		BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
		Graphics2D g = img.createGraphics();
		g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
		g.setColor(Color.WHITE);
		g.fillRect(0, 0, w, h);
		g.setColor(Color.BLACK);
		g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
		g.drawString(title, 20, 22);
		panel(g, runs, 0, "success % per second", 40, 250, 0, 100, false);
		panel(g, runs, 1, "p99 latency per second (ms, log scale)", 300, 250, 1, 10_000, true);
		int x = 80;
		g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
		for (int i = 0; i < runs.size(); i++) {
			g.setColor(COLORS[i % COLORS.length]);
			g.fillRect(x, h - 18, 14, 8);
			g.setColor(Color.BLACK);
			g.drawString(runs.get(i).system(), x + 18, h - 9);
			x += 170;
		}
		g.dispose();
		ImageIO.write(img, "png", file.toFile());
	}

	private static void panel(Graphics2D g, List<RunResult> runs, int series, String label, int top, int height,
			double min, double max, boolean log) {
		int left = 60, right = 880, bottom = top + height - 30;
		RunResult first = runs.get(0);
		int seconds = (int) first.settings().duration().toSeconds();
		double fs = first.settings().faultStart().toMillis() / 1000.0, fe = first.settings().faultEnd().toMillis() / 1000.0;
		g.setColor(new Color(0xfde0dd));
		int x0 = left + (int) ((right - left) * fs / seconds), x1 = left + (int) ((right - left) * fe / seconds);
		g.fillRect(x0, top + 10, x1 - x0, bottom - top - 10);
		g.setColor(Color.GRAY);
		g.drawRect(left, top + 10, right - left, bottom - top - 10);
		g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
		g.setColor(Color.BLACK);
		g.drawString(label, left, top + 5);
		g.drawString(fmt(max), 5, top + 20);
		g.drawString(fmt(min), 5, bottom);
		g.drawString("0 s", left, bottom + 15);
		g.drawString(seconds + " s", right - 25, bottom + 15);
		for (int i = 0; i < runs.size(); i++) {
			double[] values = runs.get(i).perSecond()[series];
			g.setColor(COLORS[i % COLORS.length]);
			g.setStroke(new BasicStroke(2f));
			int px = -1, py = -1;
			for (int s = 0; s < values.length; s++) {
				double v = Math.max(min, Math.min(max, values[s]));
				double frac = log ? (Math.log10(Math.max(v, 1)) - Math.log10(Math.max(min, 1))) / (Math.log10(max) - Math.log10(Math.max(min, 1)))
						: (v - min) / (max - min);
				int x = left + (int) ((right - left) * (s + 0.5) / seconds);
				int y = bottom - (int) ((bottom - top - 10) * frac);
				if (px >= 0) {
					g.drawLine(px, py, x, y);
				}
				px = x;
				py = y;
			}
		}
	}

	private static String fmt(double v) {
		return v == Math.floor(v) ? String.valueOf((long) v) : String.valueOf(v);
	}

}
