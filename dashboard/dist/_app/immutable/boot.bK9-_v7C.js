{
	__sveltekit_1dxng9i = {
		base: new URL('.', location).pathname.slice(0, -1)
	};

	const element = document.currentScript.parentElement;

	import("./bundle._JvL8Df6.js").then((app) => {
		app.start(element)
	});
}
