package dev.resiliencegateway.wiring;

import java.io.IOException;
import java.util.List;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.web.cors.CorsUtils;
import org.springframework.web.filter.ServerHttpObservationFilter;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;
import org.springframework.web.servlet.function.support.RouterFunctionMapping;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;
import org.springframework.web.servlet.handler.ConversionServiceExposingInterceptor;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.resource.ResourceUrlProviderExposingInterceptor;
import org.springframework.web.util.ServletRequestPathUtils;
import org.springframework.web.util.pattern.PathPattern;

/**
 * The traffic port's {@link DispatcherServlet}, which hands a request that one of Gateway MVC's
 * routes matches straight to that route's handler. For such a request the full dispatch does
 * nothing the gateway uses: it sets up locale and request-context thread locals, nine request
 * attributes (locale and theme resolvers, flash maps, the web application context), an async
 * manager, asks each handler mapping in turn and wraps the handler in an execution chain of
 * interceptors that only expose attributes for views. That was about a tenth of the gateway's CPU
 * samples per request (docs/performance.md, "Fifth pass").
 *
 * <p>What stays exactly as in the full dispatch: the same router function
 * ({@link RouterFunctionMapping#getRouterFunction()}, so Gateway MVC's predicates, filters and
 * refreshes apply unchanged), the same message converters, the attributes the mapping sets (the
 * matching pattern for metrics and observations), and exceptions resolved by the same resolvers.
 * A request takes the full dispatch when it is not a plain request dispatch, an {@code OPTIONS} or
 * {@code TRACE} (the servlet's own handling of those applies), a CORS pre-flight, or matches no
 * route. The direct path is switched off entirely, with a line in the log saying why, when
 * something else could claim a request first or wrap it: a handler mapping ordered ahead of the
 * routes that maps anything (actuator endpoints served on the traffic port, say; controllers come
 * after the routes in Spring MVC's order, so they keep working either way), a CORS configuration,
 * or an interceptor of the application's own.
 *
 * <p>One thing of the full dispatch is deliberately left out for routed requests: the
 * {@code ServletRequestHandledEvent} that {@code FrameworkServlet} publishes after each request
 * (an application event per request, which nothing in the gateway listens to; its route metrics and
 * access log describe routed requests instead).
 *
 * <p>Written by hand because Spring MVC has no switch for it; the servlet stays Spring's in every
 * other respect, configured as Spring Boot configures its own.
 */
public class DirectRouteDispatcher extends DispatcherServlet {

	private static final Log log = LogFactory.getLog(DirectRouteDispatcher.class);

	/** What the direct path needs, or null when it is off. */
	private volatile Direct direct;

	private record Direct(RouterFunction<?> routes, List<HttpMessageConverter<?>> converters,
			ServerResponse.Context context) {
	}

	@Override
	protected void onRefresh(ApplicationContext context) {
		super.onRefresh(context);
		this.direct = directPath(context);
	}

	/** Whether requests the routes match are handed to them directly (for tests and the log). */
	public boolean direct() {
		return direct != null;
	}

	private Direct directPath(ApplicationContext context) {
		List<HandlerMapping> mappings = getHandlerMappings();
		if (mappings == null) {
			return off("no handler mappings");
		}
		for (HandlerMapping mapping : mappings) {
			if (mapping instanceof RouterFunctionMapping routing) {
				if (routing.getRouterFunction() == null) {
					return off("no routes");
				}
				if (routing.getCorsConfigurationSource() != null) {
					return off("a CORS configuration applies to the routes");
				}
				for (HandlerInterceptor interceptor : routing.getAdaptedInterceptors()) {
					if (!(interceptor instanceof ConversionServiceExposingInterceptor)
							&& !(interceptor instanceof ResourceUrlProviderExposingInterceptor)) {
						return off("the handler interceptor " + interceptor.getClass().getName() + " applies to the routes");
					}
				}
				RequestMappingHandlerAdapter adapter = context.getBeanProvider(RequestMappingHandlerAdapter.class)
					.getIfUnique();
				if (adapter == null) {
					return off("no unique RequestMappingHandlerAdapter to take the message converters from");
				}
				List<HttpMessageConverter<?>> converters = adapter.getMessageConverters();
				return new Direct(routing.getRouterFunction(), converters, () -> converters);
			}
			String claims = mapsSomething(mapping);
			if (claims != null) {
				return off("the handler mapping " + mapping.getClass().getName() + " ahead of the routes maps " + claims);
			}
		}
		return off("no RouterFunctionMapping");
	}

	/** What a handler mapping ahead of the routes could claim, or null when it maps nothing. */
	private static String mapsSomething(HandlerMapping mapping) {
		if (mapping instanceof RequestMappingInfoHandlerMapping methods) {
			return methods.getHandlerMethods().isEmpty() ? null : methods.getHandlerMethods().size() + " handler methods";
		}
		if (mapping instanceof AbstractUrlHandlerMapping urls) {
			return urls.getHandlerMap().isEmpty() && urls.getRootHandler() == null ? null : "URL paths";
		}
		return "requests of its own";
	}

	private static Direct off(String why) {
		log.info("Requests to Gateway MVC routes take Spring MVC's full dispatch: " + why);
		return null;
	}

	@Override
	protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
		Direct d = direct;
		if (d == null || request.getDispatcherType() != DispatcherType.REQUEST || "OPTIONS".equals(request.getMethod())
				|| "TRACE".equals(request.getMethod()) || CorsUtils.isPreFlightRequest(request)) {
			super.service(request, response);
			return;
		}
		// as DispatcherServlet.doService and RouterFunctionMapping.getHandlerInternal do
		ServletRequestPathUtils.parseAndCache(request);
		ServerRequest serverRequest = ServerRequest.create(request, d.converters());
		HandlerFunction<?> handler = d.routes().route(serverRequest).orElse(null);
		if (handler == null) {
			ServletRequestPathUtils.clearParsedRequestPath(request);
			super.service(request, response); // 404s and whatever else answers unrouted requests
			return;
		}
		PathPattern pattern = (PathPattern) request.getAttribute(RouterFunctions.MATCHING_PATTERN_ATTRIBUTE);
		if (pattern != null) {
			request.removeAttribute(RouterFunctions.MATCHING_PATTERN_ATTRIBUTE);
			request.setAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE, pattern.getPatternString());
			ServerHttpObservationFilter.findObservationContext(request)
				.ifPresent(observation -> observation.setPathPattern(pattern.getPatternString()));
		}
		request.setAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE, handler);
		request.setAttribute(RouterFunctions.REQUEST_ATTRIBUTE, serverRequest);
		try {
			ServerResponse answer = handler.handle(serverRequest);
			if (answer != null) {
				ModelAndView view = answer.writeTo(request, response, d.context());
				if (view != null && !view.wasCleared()) {
					render(view, request, response);
				}
			}
		}
		catch (Exception ex) {
			// as DispatcherServlet.processHandlerException (null: resolved, the answer written; an
			// exception nobody resolves is thrown again), then as FrameworkServlet.processRequest
			try {
				ModelAndView view = processHandlerException(request, response, handler, ex);
				if (view != null && !view.isEmpty()) {
					render(view, request, response);
				}
			}
			catch (IOException | ServletException e) {
				throw e;
			}
			catch (Exception e) {
				throw new ServletException("Request processing failed: " + e, e);
			}
		}
	}

}
