{
	__sveltekit_1dxng9i = {
		base: new URL('.', location).pathname.slice(0, -1)
	};

	const element = document.currentScript.parentElement;

	import("./bundle.DN50jkm9.js").then((app) => {
		app.start(element)
	});
}
