package dev.resiliencegateway.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The peers whose forwarding headers are believed: IP addresses and CIDR ranges, IPv4 or IPv6.
 * Written by hand because the one in Spring Security is not on our classpath and Gateway MVC's own
 * takes a regular expression, which is easy to get wrong for address ranges.
 */
public final class TrustedProxies {

	private record Range(byte[] network, int prefix) {
		boolean contains(byte[] address) {
			if (address.length != network.length) {
				return false;
			}
			int full = prefix / 8;
			for (int i = 0; i < full; i++) {
				if (address[i] != network[i]) {
					return false;
				}
			}
			int rest = prefix % 8;
			if (rest == 0) {
				return true;
			}
			int mask = (0xff << (8 - rest)) & 0xff;
			return (address[full] & mask) == (network[full] & mask);
		}
	}

	public static final TrustedProxies NONE = new TrustedProxies(List.of());

	private final List<Range> ranges;

	private TrustedProxies(List<Range> ranges) {
		this.ranges = ranges;
	}

	/** Parses entries such as {@code 10.0.0.0/8}, {@code 192.168.1.7} or {@code ::1}. */
	public static TrustedProxies parse(List<String> entries, String key) {
		List<Range> ranges = new ArrayList<>();
		for (int i = 0; i < entries.size(); i++) {
			String entry = entries.get(i).trim();
			String expected = "an IP address or CIDR range such as 10.0.0.0/8";
			int slash = entry.indexOf('/');
			String host = slash < 0 ? entry : entry.substring(0, slash);
			if (host.isEmpty() || !(host.contains(":") || host.matches("[0-9.]+"))) {
				throw new InvalidConfigurationException(key + "[" + i + "]", entry, expected);
			}
			try {
				byte[] network = InetAddress.getByName(host).getAddress();
				int prefix = slash < 0 ? network.length * 8 : Integer.parseInt(entry.substring(slash + 1));
				if (prefix < 0 || prefix > network.length * 8) {
					throw new InvalidConfigurationException(key + "[" + i + "]", entry, expected);
				}
				ranges.add(new Range(network, prefix));
			}
			catch (UnknownHostException | NumberFormatException e) {
				throw new InvalidConfigurationException(key + "[" + i + "]", entry, expected);
			}
		}
		return new TrustedProxies(List.copyOf(ranges));
	}

	public boolean isEmpty() {
		return ranges.isEmpty();
	}

	/** Whether the peer with this literal address (as the servlet container reports it) is trusted. */
	public boolean trusts(String remoteAddr) {
		if (ranges.isEmpty() || remoteAddr == null) {
			return false;
		}
		try {
			// a literal address: InetAddress does no lookup for these
			byte[] address = InetAddress.getByName(remoteAddr).getAddress();
			for (Range r : ranges) {
				if (r.contains(address)) {
					return true;
				}
			}
			return false;
		}
		catch (UnknownHostException e) {
			return false;
		}
	}

}
