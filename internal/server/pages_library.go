package server

import "github.com/gin-gonic/gin"

// libraryPages registers the pages of the Shizuishan Memory library.
func (s *Server) libraryPages(g *gin.RouterGroup) {}
