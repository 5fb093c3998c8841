package httpapi

import (
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"
	swaggerfiles "github.com/swaggo/files/v2"

	"github.com/leadr-oss/identity/wire"
)

// The documentation page: Swagger UI, whose files come embedded in the
// binary (github.com/swaggo/files), reading /openapi.json. Nothing is
// fetched from elsewhere, and the page's Content-Security-Policy forbids it.
const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>LEADR identity service — API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`

const docsInit = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
`

const docsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'"

// docsAssets are the Swagger UI files the page uses.
var docsAssets = map[string]bool{"swagger-ui.css": true, "swagger-ui-bundle.js": true, "favicon-32x32.png": true}

func serveDocs(c *gin.Context) {
	c.Header("Content-Security-Policy", docsCSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsPage))
}

func serveDocsAsset(c *gin.Context) {
	name := c.Param("asset")
	if name == "init.js" {
		c.Data(http.StatusOK, "text/javascript; charset=utf-8", []byte(docsInit))
		return
	}
	if !docsAssets[name] {
		c.JSON(http.StatusNotFound, wire.Error{Detail: "Not Found"})
		return
	}
	b, err := fs.ReadFile(swaggerfiles.FS, name)
	if err != nil {
		fail(c, err)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, ct, b)
}
