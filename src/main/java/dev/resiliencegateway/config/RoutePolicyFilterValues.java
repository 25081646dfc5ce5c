package dev.resiliencegateway.config;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.util.unit.DataSize;

import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.config.GatewayConfigValidator.PolicyFilter;

/** Folds a route's {@link RoutePolicyFilters} into its policy, with one clear message per bad value. */
final class RoutePolicyFilterValues {

	private RoutePolicyFilterValues() {
	}

	static RoutePolicy apply(List<PolicyFilter> filters, RoutePolicy policy) {
		RoutePolicy p = policy;
		for (PolicyFilter f : filters) {
			String v = f.value() == null ? "" : f.value().trim();
			p = switch (f.name()) {
				case "MaxAttempts" -> p.withAttempts(integer(f, v, 1), p.perTryTimeout(), p.deadline());
				case "PerTryTimeout" -> p.withAttempts(p.maxAttempts(), duration(f, v), p.deadline());
				case "Deadline" -> p.withAttempts(p.maxAttempts(), p.perTryTimeout(), duration(f, v));
				case "Hedge" -> switch (v) {
					case "off" -> p.withHedging(false, p.hedgeDelay(), p.hedgeMinDelay(), p.hedgeBudgetPercent());
					case "p95" -> p.withHedging(true, null, p.hedgeMinDelay(), p.hedgeBudgetPercent());
					default -> p.withHedging(true, duration(f, v, "a duration such as 50ms, p95 or off"),
							p.hedgeMinDelay(), p.hedgeBudgetPercent());
				};
				case "MaxConcurrent" -> p.withLimits(p.bufferLimit(), integer(f, v, 1), p.maxBodySize());
				case "MaxBodySize" -> p.withLimits(p.bufferLimit(), p.maxConcurrent(), size(f, v));
				default -> throw new IllegalStateException("not a policy filter: " + f.name());
			};
		}
		return p;
	}

	private static int integer(PolicyFilter f, String v, int min) {
		try {
			int n = Integer.parseInt(v);
			if (n >= min) {
				return n;
			}
		}
		catch (NumberFormatException e) {
			// below
		}
		throw new InvalidConfigurationException(f.key(), f.name() + "=" + f.value(), "a whole number >= " + min);
	}

	private static Duration duration(PolicyFilter f, String v) {
		return duration(f, v, "a positive duration such as 500ms or 2s");
	}

	private static Duration duration(PolicyFilter f, String v, String expected) {
		try {
			Duration d = DurationStyle.detectAndParse(v);
			if (!d.isNegative() && !d.isZero()) {
				return d;
			}
		}
		catch (IllegalArgumentException e) {
			// below
		}
		throw new InvalidConfigurationException(f.key(), f.name() + "=" + f.value(), expected);
	}

	private static long size(PolicyFilter f, String v) {
		try {
			long bytes = DataSize.parse(v).toBytes();
			if (bytes >= 0) {
				return bytes;
			}
		}
		catch (IllegalArgumentException e) {
			// below
		}
		throw new InvalidConfigurationException(f.key(), f.name() + "=" + f.value(), "0 (no limit) or a size such as 1MB");
	}

}
