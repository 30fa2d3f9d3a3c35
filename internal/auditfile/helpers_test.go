package auditfile

import "github.com/creditwatch/creditwatch/internal/workday"

func defaultCalendar() *workday.Calendar { return workday.Default }
