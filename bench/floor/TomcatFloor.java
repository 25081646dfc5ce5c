import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.tomcat.util.threads.VirtualThreadExecutor;

/**
 * The least the gateway's server stack can cost a request: the embedded Tomcat the gateway ships (its
 * jars, NIO connector, a virtual thread per request as Spring Boot sets it up), without Spring.
 * Alone (no replica given) it answers GET and POST itself as a demo replica would (a small JSON body;
 * a POST's body echoed). Given replicas, it relays each request to the next of them in turn with
 * HttpClient 5 classic (the gateway's upstream client library, pooled kept-alive connections) and
 * copies the answer's status, type and body back: the least a proxy on this stack can do, without
 * the gateway's health, balancing, retries, headers or checks. Run by bench/floor.sh:
 *   java -cp 'target/aot/lib/*' bench/floor/TomcatFloor.java PORT [http://127.0.0.1:19001 ...]
 */
public final class TomcatFloor {

	public static void main(String[] args) throws Exception {
		String[] replicas = java.util.Arrays.copyOfRange(args, 1, args.length);
		AtomicInteger next = new AtomicInteger();
		CloseableHttpClient client = HttpClients.custom()
			.setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create().setMaxConnPerRoute(200).setMaxConnTotal(600).build())
			.disableAutomaticRetries()
			.build();
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
			protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
				boolean post = request.getMethod().equals("POST");
				byte[] in = post ? request.getInputStream().readAllBytes() : null;
				if (replicas.length > 0) {
					String url = replicas[Math.floorMod(next.getAndIncrement(), replicas.length)] + request.getRequestURI();
					HttpUriRequestBase out = post ? new HttpPost(url) : new HttpGet(url);
					if (post) {
						out.setEntity(new ByteArrayEntity(in, ContentType.parseLenient(request.getContentType())));
					}
					client.execute(out, answer -> {
						byte[] body = answer.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(answer.getEntity());
						response.setStatus(answer.getCode());
						if (answer.getEntity() != null && answer.getEntity().getContentType() != null) {
							response.setContentType(answer.getEntity().getContentType());
						}
						response.setContentLength(body.length);
						response.getOutputStream().write(body);
						return null;
					});
					return;
				}
				byte[] body = post ? in : ("{\"replica\":\"floor\",\"path\":\"" + request.getRequestURI() + "\",\"requestId\":\"null\"}")
					.getBytes(StandardCharsets.UTF_8);
				response.setContentType(post ? "application/octet-stream" : "application/json");
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
