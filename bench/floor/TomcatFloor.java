import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.threads.VirtualThreadExecutor;

/**
 * The least the gateway's server stack can cost a request: the embedded Tomcat the gateway ships (its
 * jars, NIO connector, a virtual thread per request as Spring Boot sets it up), answering every GET
 * and POST itself as a demo replica would (a small JSON body; the POST's body echoed), without Spring and without a hop to any replica. A request
 * through the gateway cannot be cheaper than a request here. Run by bench/floor.sh:
 *   java -cp 'target/aot/lib/*' bench/floor/TomcatFloor.java PORT
 */
public final class TomcatFloor {

	public static void main(String[] args) throws Exception {
		Tomcat tomcat = new Tomcat();
		tomcat.setBaseDir(System.getProperty("java.io.tmpdir") + "/tomcat-floor-" + ProcessHandle.current().pid());
		Connector connector = new Connector(Http11NioProtocol.class.getName());
		connector.setPort(Integer.parseInt(args[0]));
		connector.setProperty("address", "127.0.0.1");
		Http11NioProtocol protocol = (Http11NioProtocol) connector.getProtocolHandler();
		// what Spring Boot's TomcatVirtualThreadsWebServerFactoryCustomizer does
		protocol.setExecutor(new VirtualThreadExecutor("tomcat-handler-"));
		protocol.setMaxKeepAliveRequests(-1);
		tomcat.getService().addConnector(connector);
		tomcat.setConnector(connector);
		Context context = tomcat.addContext("", null);
		Tomcat.addServlet(context, "floor", new HttpServlet() {
			@Override
			protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
				byte[] body = ("{\"replica\":\"floor\",\"path\":\"" + request.getRequestURI() + "\",\"requestId\":\"null\"}")
					.getBytes(StandardCharsets.UTF_8);
				response.setContentType("application/json");
				response.setContentLength(body.length);
				response.getOutputStream().write(body);
			}

			@Override
			protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
				byte[] body = request.getInputStream().readAllBytes(); // echoed, as a demo replica does
				response.setContentType("application/octet-stream");
				response.setContentLength(body.length);
				response.getOutputStream().write(body);
			}
		});
		context.addServletMappingDecoded("/", "floor");
		tomcat.start();
		System.out.println("listening on " + args[0]);
		tomcat.getServer().await();
	}

}
