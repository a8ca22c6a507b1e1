// What the Go handler (dashboard.WithAPIBase, dashboard.WithTitle) tells the
// app: meta elements in index.html, which the Content-Security-Policy allows
// where an inline script would not be.

export interface Config {
  /** Where the Connect API is, as an absolute URL ending in '/'. */
  apiBase: string;
  /** The title shown in the header and the browser tab. */
  title: string;
}

/** readConfig reads the configuration from doc, with defaults for what is unset (the dev server). */
export function readConfig(doc: Document): Config {
  const meta = (name: string) => doc.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim() ?? '';
  return {
    apiBase: resolveAPIBase(meta('sparrow-api-base'), doc.baseURI),
    title: meta('sparrow-title') || 'Sparrow',
  };
}

/** resolveAPIBase resolves base (a path or URL; empty means "/") against the page's URL. */
export function resolveAPIBase(base: string, pageURL: string): string {
  const url = new URL(base || '/', pageURL);
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : url.href + '/';
}
