package dev.resiliencegateway.wiring;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockServletConfig;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerResponse;
import org.springframework.web.servlet.handler.SimpleUrlHandlerMapping;
import org.springframework.web.HttpRequestHandler;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The traffic port's dispatcher against Spring MVC as Boot configures it, without sockets: a routed
 * request reaches its handler without the full dispatch (no web application context attribute set
 * on the request), everything else takes the full dispatch, and the direct path switches itself off
 * when a handler mapping ahead of the routes, a CORS configuration or an interceptor of the
 * application could claim or wrap a request first.
 */
class DirectRouteDispatcherTest {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DirectRoutingAutoConfiguration.class,
				DispatcherServletAutoConfiguration.class, WebMvcAutoConfiguration.class,
				HttpMessageConvertersAutoConfiguration.class))
		.withUserConfiguration(Routes.class);

	@Configuration(proxyBeanMethods = false)
	static class Routes {

		@Bean
		RouterFunction<ServerResponse> routes() {
			return RouterFunctions.route()
				.GET("/orders/{id}", request -> ServerResponse.ok()
					.header("dispatch", request.servletRequest()
						.getAttribute(DispatcherServlet.WEB_APPLICATION_CONTEXT_ATTRIBUTE) == null ? "direct" : "full")
					.header("pattern", String.valueOf(request.servletRequest()
						.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE)))
					.body("order " + request.pathVariable("id")))
				.GET("/teapot", request -> {
					throw new ResponseStatusException(HttpStatus.I_AM_A_TEAPOT, "short and stout");
				})
				.route(request -> request.method().name().equals("OPTIONS"), request -> ServerResponse.ok()
					.header("dispatch", request.servletRequest()
						.getAttribute(DispatcherServlet.WEB_APPLICATION_CONTEXT_ATTRIBUTE) == null ? "direct" : "full")
					.build())
				.build();
		}

	}

	@RestController
	static class Controller {

		@GetMapping("/controller")
		String hello() {
			return "from a controller";
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class Interceptor implements WebMvcConfigurer {

		@Override
		public void addInterceptors(InterceptorRegistry registry) {
			registry.addInterceptor(new HandlerInterceptor() {
			});
		}

	}

	private static DirectRouteDispatcher started(WebApplicationContext context) throws Exception {
		DirectRouteDispatcher servlet = context.getBean("dispatcherServlet", DirectRouteDispatcher.class);
		servlet.init(new MockServletConfig(context.getServletContext()));
		return servlet;
	}

	private static MockHttpServletResponse send(DispatcherServlet servlet, String method, String path) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest(method, path);
		MockHttpServletResponse response = new MockHttpServletResponse();
		servlet.service(request, response);
		return response;
	}

	@Test
	void aRoutedRequestReachesItsHandlerDirectlyWithTheMatchingPattern() throws Exception {
		runner.run(context -> {
			DirectRouteDispatcher servlet = started(context);
			assertThat(servlet.direct()).isTrue();
			MockHttpServletResponse response = send(servlet, "GET", "/orders/7");
			assertThat(response.getStatus()).isEqualTo(200);
			assertThat(response.getContentAsString()).isEqualTo("order 7");
			assertThat(response.getHeader("dispatch")).isEqualTo("direct");
			assertThat(response.getHeader("pattern")).isEqualTo("/orders/{id}");
		});
	}

	@Test
	void anUnroutedRequestAndOptionsTakeTheFullDispatch() throws Exception {
		runner.run(context -> {
			DirectRouteDispatcher servlet = started(context);
			assertThat(send(servlet, "GET", "/nowhere").getStatus()).isEqualTo(404);
			assertThat(send(servlet, "POST", "/orders/7").getStatus()).isEqualTo(404);
			assertThat(send(servlet, "OPTIONS", "/orders/7").getHeader("dispatch")).isEqualTo("full");
		});
	}

	@Test
	void aHandlersExceptionIsResolvedAsInTheFullDispatch() throws Exception {
		runner.run(context -> {
			MockHttpServletResponse response = send(started(context), "GET", "/teapot");
			assertThat(response.getStatus()).isEqualTo(418);
			assertThat(response.getErrorMessage()).isEqualTo("short and stout");
		});
	}

	@Test
	void aControllerKeepsItsPathsWhileRoutesAreServedDirectly() throws Exception {
		// Spring MVC asks the routes before the controllers' mapping: the direct path changes nothing
		runner.withUserConfiguration(Controller.class).run(context -> {
			DirectRouteDispatcher servlet = started(context);
			assertThat(servlet.direct()).isTrue();
			assertThat(send(servlet, "GET", "/controller").getContentAsString()).isEqualTo("from a controller");
			assertThat(send(servlet, "GET", "/orders/7").getHeader("dispatch")).isEqualTo("direct");
		});
	}

	@Test
	void aHandlerMappingAheadOfTheRoutesSwitchesTheDirectPathOff() throws Exception {
		runner.withBean("legacy", SimpleUrlHandlerMapping.class, () -> {
			SimpleUrlHandlerMapping legacy = new SimpleUrlHandlerMapping(java.util.Map.of("/orders/legacy",
					(HttpRequestHandler) (request, response) -> response.getWriter().write("from a legacy handler")));
			legacy.setOrder(-10);
			return legacy;
		}).run(context -> {
			DirectRouteDispatcher servlet = started(context);
			assertThat(servlet.direct()).isFalse();
			assertThat(send(servlet, "GET", "/orders/legacy").getContentAsString()).isEqualTo("from a legacy handler");
			MockHttpServletResponse routed = send(servlet, "GET", "/orders/7");
			assertThat(routed.getContentAsString()).isEqualTo("order 7");
			assertThat(routed.getHeader("dispatch")).isEqualTo("full");
		});
	}

	@Test
	void anInterceptorOrACorsConfigurationSwitchesTheDirectPathOff() throws Exception {
		runner.withUserConfiguration(Interceptor.class).run(context -> {
			DirectRouteDispatcher servlet = started(context);
			assertThat(servlet.direct()).isFalse();
			assertThat(send(servlet, "GET", "/orders/7").getHeader("dispatch")).isEqualTo("full");
		});
		runner.withBean(WebMvcConfigurer.class, () -> new WebMvcConfigurer() {
			@Override
			public void addCorsMappings(org.springframework.web.servlet.config.annotation.CorsRegistry registry) {
				registry.addMapping("/**").allowedOrigins("https://shop.example");
			}
		}).run(context -> assertThat(started(context).direct()).isFalse());
	}

	@Test
	void anApplicationsOwnDispatcherServletIsKept() {
		runner.withBean("dispatcherServlet", DispatcherServlet.class, DispatcherServlet::new)
			.run(context -> assertThat(context.getBean("dispatcherServlet")).isNotInstanceOf(DirectRouteDispatcher.class));
	}

}
