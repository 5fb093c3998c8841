package bootstrap

import (
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerModule provides zap, JSON by default, and routes fx's own events
// through it at debug level.
var LoggerModule = fx.Options(
	fx.Provide(NewLogger),
	fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
		z := &fxevent.ZapLogger{Logger: l}
		z.UseLogLevel(zapcore.DebugLevel)
		return z
	}),
)

func NewLogger(cfg Config) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	if cfg.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(cfg.LogLevel)
	zc.DisableStacktrace = true // panics are logged with their stack explicitly
	zc.EncoderConfig.TimeKey = "time"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}
